/**
 * A client's part of a secure-aggregation round (secagg/client.ts over the coordinator's
 * `/v1/secagg` routes), the same in Node and in a browser tab: encode the trained update in fixed
 * point (secagg/fixed-point.ts, the plan's `secure` encoding), then follow the coordinator's view of
 * the round — advertise keys, send encrypted shares, send the masked vector, send unmask shares —
 * until the round is over for this client. The update itself never leaves the device in the clear.
 */
import { z } from 'zod';
import type { GlobalUpdate } from '../federated/types.js';
import { SecAggClient } from '../secagg/client.js';
import { encodeUpdate, type Encoding } from '../secagg/fixed-point.js';
import type { SecAggPhase } from '../secagg/types.js';
import { incomingOf, keysBody, maskedBody, rosterOf, sharesBody, unmaskBody } from '../secagg/wire.js';
import { sleep, withRetries, type RetryOptions } from './retry.js';
import { TransportError, type Transport } from './types.js';

export const securePlanSchema = z.object({
  threshold: z.number().int().min(2),
  neighbours: z.number().int().min(2).nullable(),
  participants: z.number().int().min(1),
  clip: z.number().positive(),
  weighting: z.enum(['examples', 'uniform']),
  nItems: z.number().int().positive(),
  tables: z.array(z.object({ name: z.string(), rows: z.number().int().positive(), cols: z.number().int().positive(), item: z.boolean() })),
  vectorLength: z.number().int().positive(),
  /** Distributed DP: the fewest survivors whose sum this client helps unmask. */
  minSurvivors: z.number().int().min(1).optional(),
});

export type SecureOutcome = 'accepted' | 'skipped';

export interface SecureRoundOptions {
  readonly retry?: RetryOptions;
  /** Fault injection for tests: vanish from the round just before this phase's message. */
  readonly dropBefore?: SecAggPhase;
  readonly pollMs?: number;
}

/** Run the protocol for `update` in `round`; 'accepted' once the masked input is in the sum. */
export async function secureRound(transport: Transport, clientId: number, round: number, rawPlan: unknown, update: GlobalUpdate, opts: SecureRoundOptions = {}): Promise<SecureOutcome> {
  if (!transport.secureView || !transport.secureSend) throw new Error('this transport cannot run secure aggregation');
  const parsed = securePlanSchema.safeParse(rawPlan);
  if (!parsed.success) throw new Error(`the round plan's 'secure' settings are invalid (${parsed.error.issues[0]?.message ?? 'schema'})`);
  const p = parsed.data;
  const encoding: Encoding = { tables: p.tables, nItems: p.nItems, participants: p.participants, clip: p.clip, weighting: p.weighting };
  const input = encodeUpdate(encoding, update).vector;
  if (input.length !== p.vectorLength) throw new Error(`encoded update of ${input.length} words, the round expects ${p.vectorLength}`);
  const client = new SecAggClient(clientId, { round, threshold: p.threshold, neighbours: p.neighbours, vectorLength: p.vectorLength, ...(p.minSurvivors !== undefined ? { minSurvivors: p.minSurvivors } : {}) });
  const view = transport.secureView.bind(transport);
  const send = async (phase: SecAggPhase, body: Uint8Array): Promise<void> => {
    try {
      await withRetries(() => (transport.secureSend as NonNullable<Transport['secureSend']>)(phase, body, round), opts.retry);
    } catch (err) {
      // sent before, the answer was lost: it counts once
      if (!(err instanceof TransportError && err.status === 409 && err.code === 'duplicate')) throw err;
    }
  };
  let masked = false;
  for (;;) {
    const v = await withRetries(view, opts.retry);
    if (v.round !== round || v.phase === 'closed') return masked ? 'accepted' : 'skipped';
    if (v.phase === 'excluded') return 'skipped';
    if (v.phase === 'finished') {
      await sleep(opts.pollMs ?? 150);
      continue;
    }
    if (opts.dropBefore === v.phase) return masked ? 'accepted' : 'skipped';
    try {
      if (v.phase === 'keys') await send('keys', keysBody(await client.advertise(), round));
      else if (v.phase === 'shares') await send('shares', sharesBody(await client.shareKeys(rosterOf(v)), round));
      else if (v.phase === 'masked') {
        await send('masked', maskedBody(await client.maskedInput(incomingOf(v), input)));
        masked = true;
      } else if (v.phase === 'unmask') {
        await send('unmask', unmaskBody(client.unmask(v.survivors, v.dropped), round));
        return 'accepted';
      }
    } catch (err) {
      // the phase closed while this client was computing: it is out of the round (or its input is in)
      if (err instanceof TransportError && err.status === 409) return masked ? 'accepted' : 'skipped';
      throw err;
    }
  }
}
