/**
 * Client work by name: what a device runs when the coordinator's strategy names it (the
 * `clientWork` of server/strategies.ts). FedAvg's is the engine's `runClientRound`, FedRecon's the
 * engine's `runFedReconClient`, unchanged — the code that trains in simulation is the code that
 * trains here. New algorithms register theirs.
 *
 * A work may also register how a device gets the local (user) tables it scores with
 * (`registerLocalTables`): FedRecon clients keep nothing between rounds, so they reconstruct their
 * user tables from their own data with the global tables frozen (`reconstructLocal`).
 */
import { Rng } from '../math/rng.js';
import { localPositives, runClientRound } from '../federated/client-work.js';
import { reconstructLocal, runFedReconClient, type ReconPlan } from '../federated/fedrecon.js';
import { RECON_SPLITS } from '../federated/recon-split.js';
import type { ClientData, ClientResult, ClientState, RoundPlan } from '../federated/types.js';
import type { GlobalParams, LocalParams } from '../models/types.js';
import type { NegativeSource } from '../train/examples.js';
import { fedReconPlanSchema } from '../wire/protocol.js';
import { runIalsClient, solveLocalUsers } from '../federated/ials.js';
import type { IalsHyper } from '../models/ials/solve.js';
import { ialsPlanSchema } from '../wire/ials-plan.js';
import { withDistributedDp } from '../privacy/dp-fedavg.js';

export type ClientWork = (plan: RoundPlan, global: GlobalParams, data: ClientData, state: ClientState | null, sampler: NegativeSource, device?: DeviceInputs) => ClientResult;

/**
 * What some works need besides the plan, the global model and the interactions (src/algorithms/):
 * the personal message the coordinator sends this client (GET /v1/personal), and inputs the device
 * prepares once from its own data (text-graph: its users' text vectors).
 */
export interface DeviceInputs {
  readonly personal?: Uint8Array;
  readonly prepared?: unknown;
}

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

/** The local tables a device scores with, computed on the device from its own data (nothing is sent). */
export type LocalTables = (plan: RoundPlan, global: GlobalParams, data: ClientData, sampler: NegativeSource, device?: DeviceInputs) => LocalParams;

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

registerClientWork('fedavg', withDistributedDp(runClientRound));

/** FedRecon's settings from a plan's `fedrecon` field (validated by the wire schema). */
export function reconPlanOf(plan: RoundPlan): ReconPlan {
  const parsed = fedReconPlanSchema.safeParse((plan as unknown as Record<string, unknown>).fedrecon);
  if (!parsed.success) {
    const why = parsed.error.issues.slice(0, 3).map((i) => `fedrecon.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`a 'fedrecon' round plan needs valid reconstruction settings (${why})`);
  }
  const f = parsed.data;
  return {
    reconstruction: { optimizer: f.reconstruction.optimizer, epochs: f.reconstruction.epochs, stepsMax: f.reconstruction.stepsMax },
    postReconstructionStepsMax: f.postReconstructionStepsMax,
    split: RECON_SPLITS[f.split],
  };
}

/** Explicit feedback (MSE on ratings) trains without negatives, as the simulation does. */
const fedReconSampler = (plan: RoundPlan, sampler: NegativeSource): NegativeSource | null => (plan.loss === 'mse' ? null : sampler);

// Stateless: `state` is ignored and none is returned; the user tables are dropped after the round.
registerClientWork('fedrecon', withDistributedDp((plan, global, data, _state, sampler) =>
  runFedReconClient(plan, reconPlanOf(plan), global, data, fedReconSampler(plan, sampler))));

// Scoring: reconstruct the user tables from all of this device's data, global tables frozen.
registerLocalTables('fedrecon', (plan, global, data, sampler) =>
  reconstructLocal(plan, reconPlanOf(plan).reconstruction, global, localPositives(data), fedReconSampler(plan, sampler), Rng.derive(plan.seed, 'fedrecon-reconstruct', data.clientId)));

/** iALS's objective from a plan's `ials` field (wire/ials-plan.ts). */
export function ialsPlanOf(plan: RoundPlan): IalsHyper {
  const parsed = ialsPlanSchema.safeParse((plan as unknown as Record<string, unknown>).ials);
  if (!parsed.success) {
    const why = parsed.error.issues.slice(0, 3).map((i) => `ials.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`an 'ials' round plan needs valid iALS settings (${why})`);
  }
  return parsed.data;
}

// Stateless: the user factors are solved in closed form every round and never kept or sent.
registerClientWork('ials', (plan, global, data) => runIalsClient(plan, ialsPlanOf(plan), global, data));

// Scoring: the same closed-form solve against the current item factors.
registerLocalTables('ials', (plan, global, data) => solveLocalUsers(plan.model.dim, ialsPlanOf(plan), global, data, plan.recency));
