/**
 * Client work by name: what a device runs when the coordinator's round names it — a lookup into
 * the algorithm registry (src/algorithms/registry.ts). The code that trains in simulation is the
 * code that trains here.
 */
import type { ClientData, ClientState, RoundPlan } from '../federated/types.js';
import type { GlobalParams, LocalParams } from '../models/types.js';
import type { NegativeSource } from '../train/examples.js';
import { ALGORITHMS, deviceWork, findAlgorithm } from '../algorithms/registry.js';
import type { Algorithm, ClientWork, DeviceInputs, DeviceNeeds, LocalTables } from '../algorithms/types.js';

export type { ClientWork, DeviceInputs, DeviceNeeds, LocalTables } from '../algorithms/types.js';
export { reconPlanOf } from '../algorithms/fedrecon.js';
export { ialsPlanOf } from '../algorithms/ials.js';

/** This process is a browser tab (no Node): work that needs Node's threads cannot run here. */
const inTab = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === undefined;

/** The algorithm whose client work `name` is, or a one-line refusal naming the ones this device runs. */
function deviceAlgorithm(name: string): Algorithm {
  const found = findAlgorithm(name);
  const runnable = (a: Algorithm): boolean => !inTab || a.capabilities.tab !== false;
  if (!found || !runnable(found)) {
    const known = (ALGORITHMS as readonly Algorithm[]).filter(runnable).map((a) => a.name);
    throw new Error(`this client cannot run '${name}' rounds${found ? ' (it needs Node: join with fedrec join)' : ''}; it knows: ${known.join(', ')}`);
  }
  return found;
}

/** The device-side needs of a work (fetch its personal message each round; prepare inputs once), or null. */
export function deviceNeedsOf(name: string): DeviceNeeds | null {
  return findAlgorithm(name)?.device ?? null;
}

export function clientWork(name: string): ClientWork {
  return deviceWork(deviceAlgorithm(name));
}

/** How `name` clients build their scoring tables on the device, or null (they keep them as state). */
export function localTablesOf(name: string): LocalTables | null {
  return findAlgorithm(name)?.localTables ?? null;
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
