/**
 * `fedrec privacy --sampling-rate Q --noise-multiplier Z --rounds T --delta D [--json]`: the ε a
 * DP-FedAvg run spends (RDP accountant of the Poisson-subsampled Gaussian, privacy/rdp-accountant.ts);
 * with `--epsilon E` instead of `--noise-multiplier`: the smallest noise multiplier that keeps ε ≤ E.
 */
import { epsilonOf, noiseMultiplierFor } from '../privacy/rdp-accountant.js';
import { flagHelp, parseFlags, UsageError, type FlagSpec } from './flags.js';

export const PRIVACY_FLAGS: Record<string, FlagSpec> = {
  'sampling-rate': { key: 'samplingRate', kind: 'number', help: 'probability q that a client takes part in a round (Poisson sampling), in (0, 1]' },
  'noise-multiplier': { key: 'noiseMultiplier', kind: 'number', help: 'noise standard deviation / clip norm (z); gives ε' },
  epsilon: { key: 'epsilon', kind: 'number', help: 'target ε; gives the smallest noise multiplier reaching it' },
  rounds: { key: 'rounds', kind: 'integer', help: 'number of rounds (compositions)' },
  delta: { key: 'delta', kind: 'number', help: 'δ of the (ε, δ) guarantee, in (0, 1)' },
  json: { key: 'json', kind: 'boolean', help: 'print one JSON object' },
  help: { key: 'help', kind: 'boolean', help: 'this help' },
};

export function privacyHelp(): string {
  return `usage: fedrec privacy --sampling-rate Q (--noise-multiplier Z | --epsilon E) --rounds T --delta D [--json]\n\n${flagHelp(PRIVACY_FLAGS)}`;
}

export async function privacyCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, PRIVACY_FLAGS) as { samplingRate?: number; noiseMultiplier?: number; epsilon?: number; rounds?: number; delta?: number; json?: boolean; help?: boolean };
  if (f.help) {
    process.stdout.write(privacyHelp() + '\n');
    return 0;
  }
  if (f.samplingRate === undefined) throw new UsageError('--sampling-rate is required');
  if (!(f.samplingRate > 0 && f.samplingRate <= 1)) throw new UsageError(`--sampling-rate: expected a number in (0, 1], got ${f.samplingRate}`);
  if (f.rounds === undefined) throw new UsageError('--rounds is required');
  if (f.rounds < 1) throw new UsageError(`--rounds: expected a positive integer, got ${f.rounds}`);
  if (f.delta === undefined) throw new UsageError('--delta is required');
  if (!(f.delta > 0 && f.delta < 1)) throw new UsageError(`--delta: expected a number in (0, 1), got ${f.delta}`);
  if ((f.noiseMultiplier === undefined) === (f.epsilon === undefined)) throw new UsageError('give exactly one of --noise-multiplier (→ ε) and --epsilon (→ noise multiplier)');
  const base = { samplingRate: f.samplingRate, rounds: f.rounds, delta: f.delta };
  let out: { samplingRate: number; rounds: number; delta: number; noiseMultiplier: number; epsilon: number; order: number };
  if (f.noiseMultiplier !== undefined) {
    if (!(f.noiseMultiplier >= 0)) throw new UsageError(`--noise-multiplier: expected a number ≥ 0, got ${f.noiseMultiplier}`);
    const { epsilon, order } = epsilonOf({ ...base, noiseMultiplier: f.noiseMultiplier });
    out = { ...base, noiseMultiplier: f.noiseMultiplier, epsilon, order };
  } else {
    const target = f.epsilon as number;
    if (!(target > 0)) throw new UsageError(`--epsilon: expected a number > 0, got ${target}`);
    const z = noiseMultiplierFor({ ...base, epsilon: target });
    const { epsilon, order } = epsilonOf({ ...base, noiseMultiplier: z });
    out = { ...base, noiseMultiplier: z, epsilon, order };
  }
  if (f.json) {
    process.stdout.write(JSON.stringify({ ...out, epsilon: Number.isFinite(out.epsilon) ? out.epsilon : null, accountant: 'rdp', order: Number.isFinite(out.order) ? out.order : null }) + '\n');
  } else {
    process.stdout.write(
      `noise multiplier ${out.noiseMultiplier.toPrecision(6)}, sampling rate ${out.samplingRate}, ${out.rounds} rounds, δ = ${out.delta}: ` +
        `ε = ${Number.isFinite(out.epsilon) ? out.epsilon.toFixed(4) : '∞'}${Number.isFinite(out.order) ? ` (RDP order ${out.order})` : ''}\n`,
    );
  }
  return 0;
}
