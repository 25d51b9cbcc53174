/**
 * The defaults of iALS runs (model 'ials'; algorithm 'ials' when federated), filled in before
 * validation and only for fields the user did not give. `--algorithm ials` implies `--model ials`,
 * and `--model ials` in federated mode implies `--algorithm ials`. The values were chosen on the
 * VALIDATION split of ML-100K (leave-one-out by time); docs/ials.md has what was tried.
 * Federated runs download the item factors 8-bit (wire/quantize.ts): validation NDCG@10 0.4320 vs
 * 0.4313 at float32 and 0.4313 at f16, with 64 % fewer bytes per round than float32.
 * No imports: the config schema uses this module.
 */
const IALS_DEFAULTS: Record<'central' | 'federated', Record<string, unknown>> = {
  central: { dim: 64, l2: 0.01, unobservedWeight: 0.3, regExponent: 1, recencyWindow: 10, recencyWeight: 2, epochs: 16, evalEvery: 2 },
  federated: { dim: 64, l2: 0.01, unobservedWeight: 0.3, regExponent: 1, recencyWindow: 10, recencyWeight: 2, rounds: 30, evalEvery: 3, serverLr: 0.5, download: 'q8' },
};

export function withIalsDefaults(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const central = given.mode === 'central';
  if (given.algorithm === 'ials' && given.model === undefined) given.model = 'ials';
  if (given.model !== 'ials') return raw;
  if (!central && given.algorithm === undefined) given.algorithm = 'ials';
  return { ...IALS_DEFAULTS[central ? 'central' : 'federated'], ...given };
}
