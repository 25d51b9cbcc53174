/**
 * The single list of federated algorithms. An algorithm is one module (src/algorithms/<name>.ts,
 * contract in ./types.ts) and one line here; the run config's `algorithm` choices and option fields,
 * the `fedrec train` flags, the coordinator's strategies and the clients' work all come from this
 * list. A module with `variantOf` runs another algorithm's rounds for its own models (federated
 * LightGCN / NCL are FedAvg rounds): `algorithmFor(algorithm, model)` resolves the pair.
 */
import type { ClientWork, Algorithm } from './types.js';
import { withDistributedDp } from '../privacy/dp-fedavg.js';
import { fedavg } from './fedavg.js';
import { fedrecon } from './fedrecon.js';
import { ials } from './ials.js';
import { fedprox } from './fedprox.js';
import { graph } from './graph.js';
import { lightgcn } from './lightgcn.js';

export const ALGORITHMS = [
  fedavg,
  fedrecon,
  ials,
  fedprox,
  graph,
  lightgcn,
] as const;

export type AlgorithmName = (typeof ALGORITHMS)[number]['name'];

/** The `--algorithm` choices (every module but the variants), in registry order. */
export const ALGORITHM_NAMES = ALGORITHMS.filter((a) => !('variantOf' in a)).map((a) => a.name) as [string, ...string[]];

type ShapeOf<A> = A extends Algorithm<infer S> ? S : never;
type Intersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** The option fields of every algorithm, for the run config (each applies to its algorithm's runs only). */
export const ALGORITHM_OPTIONS = Object.assign({}, ...ALGORITHMS.map((a) => a.options.shape)) as Intersection<ShapeOf<(typeof ALGORITHMS)[number]>>;

/** The module named `name` (a wire client-work name: variants included). */
export function findAlgorithm(name: string): Algorithm | undefined {
  return (ALGORITHMS as readonly Algorithm[]).find((a) => a.name === name);
}

/** The module that runs `--algorithm algorithm` with `--model model`: a variant for that model, else the algorithm's own module. */
export function algorithmFor(algorithm: string, model: string): Algorithm | undefined {
  const variant = (ALGORITHMS as readonly Algorithm[]).find((a) => a.variantOf === algorithm && (a.models ?? []).includes(model));
  return variant ?? findAlgorithm(algorithm);
}

/** The algorithm whose option field `field` is, if any. */
export function algorithmOfOption(field: string): Algorithm | undefined {
  return (ALGORITHMS as readonly Algorithm[]).find((a) => field in a.options.shape);
}

/**
 * The client work as a device runs it: the algorithm's work, which a plan asking for distributed
 * DP clips and noises on the device before the update leaves (privacy/dp-fedavg.ts).
 */
export function deviceWork(algorithm: Algorithm): ClientWork {
  if (!algorithm.capabilities.sumsUpdates) return algorithm.client;
  const client = algorithm.client;
  return (plan, global, data, state, sampler, engine) =>
    withDistributedDp((p, g, d, s, smp) => client(p, g, d, s, smp, engine))(plan, global, data, state, sampler);
}

/** The `--algorithm` names with a capability (e.g. whose server sums updates: DP, secure sum, robust rules wrap it). */
export function algorithmsWith(capability: keyof Algorithm['capabilities']): string[] {
  return (ALGORITHMS as readonly Algorithm[]).filter((a) => a.capabilities[capability] && a.variantOf === undefined).map((a) => a.name);
}

/** "fedavg or fedrecon", "fedavg, fedrecon or fedprox". */
export function sayNames(names: readonly string[], quote = ''): string {
  const q = names.map((n) => `${quote}${n}${quote}`);
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

/** Whose tuned shared-field defaults an algorithm runs with (its own name unless it names another). */
export function defaultsOf(name: string): string {
  return findAlgorithm(name)?.sharedDefaults ?? name;
}
