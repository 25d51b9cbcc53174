/**
 * Client work by name: what a device runs when the coordinator's strategy names it (the
 * `clientWork` of server/strategies.ts). FedAvg's is the engine's `runClientRound`, unchanged —
 * the code that trains in simulation is the code that trains here. New algorithms register theirs.
 */
import { runClientRound } from '../federated/client-work.js';
import type { ClientData, ClientResult, ClientState, RoundPlan } from '../federated/types.js';
import type { GlobalParams } from '../models/types.js';
import type { NegativeSource } from '../train/examples.js';

export type ClientWork = (plan: RoundPlan, global: GlobalParams, data: ClientData, state: ClientState | null, sampler: NegativeSource) => ClientResult;

const works = new Map<string, ClientWork>();

export function registerClientWork(name: string, work: ClientWork): void {
  works.set(name, work);
}

export function clientWork(name: string): ClientWork {
  const work = works.get(name);
  if (!work) throw new Error(`this client cannot run '${name}' rounds; it knows: ${[...works.keys()].join(', ')}`);
  return work;
}

registerClientWork('fedavg', runClientRound);
