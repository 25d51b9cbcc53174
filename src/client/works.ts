/**
 * Client work by name: what a device runs when the coordinator's round names it. Every registered
 * algorithm (src/algorithms/registry.ts) runs its own client work — the code that trains in
 * simulation is the code that trains here. `registerClientWork` / `registerLocalTables` add work
 * that is not (yet) an Algorithm module, under the name its server strategy names
 * (server/strategies.ts `registerStrategy`).
 */
import type { ClientData, ClientState, RoundPlan } from '../federated/types.js';
import type { GlobalParams, LocalParams } from '../models/types.js';
import type { NegativeSource } from '../train/examples.js';
import { ALGORITHMS, deviceWork } from '../algorithms/registry.js';
import type { ClientWork, DeviceInputs, LocalTables } from '../algorithms/types.js';

export type { ClientWork, DeviceInputs, LocalTables } from '../algorithms/types.js';
export { reconPlanOf } from '../algorithms/fedrecon.js';
export { ialsPlanOf } from '../algorithms/ials.js';

/** The device-side needs of a work: fetch its personal message each round; prepare inputs once (async). */
export interface DeviceNeeds {
  readonly personal: boolean;
  prepare?(plan: RoundPlan, texts: readonly (string | undefined)[]): Promise<unknown>;
}

const needs = new Map<string, DeviceNeeds>();

export function registerDeviceNeeds(name: string, n: DeviceNeeds): void {
  needs.set(name, n);
}

export function deviceNeedsOf(name: string): DeviceNeeds | null {
  return needs.get(name) ?? null;
}

const works = new Map<string, ClientWork>();
const localTables = new Map<string, LocalTables>();

export function registerClientWork(name: string, work: ClientWork): void {
  works.set(name, work);
}

export function clientWork(name: string): ClientWork {
  const work = works.get(name);
  if (!work) throw new Error(`this client cannot run '${name}' rounds; it knows: ${[...works.keys()].join(', ')}`);
  return work;
}

export function registerLocalTables(name: string, fn: LocalTables): void {
  localTables.set(name, fn);
}

/** How `name` clients build their scoring tables on the device, or null (they keep them as state). */
export function localTablesOf(name: string): LocalTables | null {
  return localTables.get(name) ?? null;
}

/**
 * The local tables a device scores with: rebuilt from its data when the work says so (FedRecon),
 * else the kept state, else one local round from fresh tables (its update is not sent).
 */
export function deviceLocalTables(name: string, plan: RoundPlan, global: GlobalParams, data: ClientData, state: ClientState | null, sampler: NegativeSource, device?: DeviceInputs): LocalParams {
  const rebuild = localTablesOf(name);
  if (rebuild) return rebuild(plan, global, data, sampler, device);
  if (state) return state.local;
  const fresh = clientWork(name)(plan, global, data, null, sampler, device).state;
  if (!fresh) throw new Error(`'${name}' clients keep no local tables to score with`);
  return fresh.local;
}

for (const algorithm of ALGORITHMS) {
  registerClientWork(algorithm.name, deviceWork(algorithm));
  if (algorithm.localTables) registerLocalTables(algorithm.name, algorithm.localTables);
}
