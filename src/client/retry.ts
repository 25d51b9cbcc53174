/**
 * Retries with capped exponential back-off and full jitter, for transient failures only
 * (`TransportError.retryable`). Bounded by attempts and by elapsed time.
 */
import { TransportError } from './types.js';

export interface RetryOptions {
  readonly baseMs?: number;
  readonly maxMs?: number;
  /** Give up after this long in total, ms. */
  readonly giveUpAfterMs?: number;
  readonly maxAttempts?: number;
  readonly onRetry?: (attempt: number, delayMs: number, error: Error) => void;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function withRetries<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const { baseMs = 100, maxMs = 2000, giveUpAfterMs = 120_000, maxAttempts = 1000 } = opts;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const retryable = err instanceof TransportError && err.retryable;
      if (!retryable || attempt >= maxAttempts || Date.now() - started > giveUpAfterMs) throw err;
      const delayMs = Math.round(Math.random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1)));
      opts.onRetry?.(attempt, delayMs, err as Error);
      await sleep(delayMs);
    }
  }
}
