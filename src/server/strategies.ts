/**
 * Server strategies by name, for the coordinator: every registered algorithm
 * (src/algorithms/registry.ts) serves under its name, its server side built by the same
 * `serverContextOf` the simulation uses. `registerStrategy` adds a strategy that is not (yet) an
 * Algorithm module; its client work registers under the same name in client/works.ts.
 */
import type { Strategy } from '../federated/types.js';
import type { ParamInfo } from '../models/types.js';
import { ConfigError, type TrainConfig } from '../runtime/config.js';
import { ALGORITHMS } from '../algorithms/registry.js';
import { serverContextOf } from '../algorithms/context.js';

export interface StrategyContext {
  /** Global tables only. */
  readonly info: readonly ParamInfo[];
  readonly nItems: number;
  readonly training: TrainConfig;
}

export interface StrategyEntry {
  /** Name of the client work clients run for this strategy. */
  readonly clientWork: string;
  create(ctx: StrategyContext): Strategy;
  /** Extra plan fields this strategy's client work reads (e.g. FedRecon's reconstruction epochs). */
  planExtras?(training: TrainConfig): Readonly<Record<string, unknown>>;
}

const registry = new Map<string, StrategyEntry>();

export function registerStrategy(name: string, entry: StrategyEntry): void {
  registry.set(name, entry);
}

export function strategyEntry(name: string): StrategyEntry {
  const entry = registry.get(name);
  if (!entry) throw new ConfigError(`training.algorithm '${name}' cannot be served by the coordinator; it serves: ${[...registry.keys()].join(', ')}`);
  return entry;
}

export function strategyNames(): string[] {
  return [...registry.keys()];
}

for (const algorithm of ALGORITHMS) {
  registerStrategy(algorithm.name, {
    clientWork: algorithm.name,
    create: ({ info, nItems, training }) => algorithm.server(serverContextOf(training, info, nItems)),
    planExtras: (training) => algorithm.plan(training),
  });
}
