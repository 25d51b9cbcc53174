/**
 * Worker thread of the parallel simulation. It owns a fixed share of the clients (their data and
 * state never leave it), runs their client work — the registered algorithm's, looked up by name —
 * on the global tables it reads from shared memory, and folds their updates into partial sums it
 * sends back each round.
 */
import { parentPort } from 'node:worker_threads';
import type { ImplicitSplit } from '../data/types.js';
import type { GlobalParams, LocalParams, ParamInfo } from '../models/types.js';
import { UpdateAccumulator } from '../federated/aggregate.js';
import { clientNegativeSource } from '../federated/client-work.js';
import { deviceWork, findAlgorithm } from '../algorithms/registry.js';
import type { ClientWork } from '../algorithms/types.js';
import { updateBytes } from '../federated/bytes.js';
import { type InfluenceBounds } from '../federated/bounds.js';
import type { ClientState, RoundPlan } from '../federated/types.js';
import { partitionClients } from '../federated/partition.js';

export interface WorkerInit {
  readonly type: 'init';
  /** The registered algorithm (src/algorithms/registry.ts) whose client work to run. */
  readonly algorithm: string;
  readonly split: ImplicitSplit;
  readonly usersPerClient: number;
  readonly seed: number;
  readonly info: readonly ParamInfo[];
  readonly shared: { readonly [name: string]: SharedArrayBuffer };
  /** How the server bounds each update before folding it (the strategy's `bounds`). */
  readonly bounds: InfluenceBounds;
}

export interface WorkerRound {
  readonly type: 'round';
  readonly plan: RoundPlan;
  readonly clientIds: Int32Array;
  /** This round's bounds (the clip may adapt from round to round); absent: the init's. */
  readonly bounds?: InfluenceBounds;
}

export interface WorkerLocals {
  readonly type: 'locals';
}

export type WorkerRequest = WorkerInit | WorkerRound | WorkerLocals;

/** Local tables of the clients this worker has trained: their users and tables. */
export interface LocalShare {
  readonly users: Int32Array;
  readonly local: LocalParams;
}

function serve(): void {
  const port = parentPort;
  if (!port) throw new Error('simulation-worker must run in a worker thread');
  let init: WorkerInit | null = null;
  let clients: ReturnType<typeof partitionClients> = [];
  let global: GlobalParams = {};
  let acc: UpdateAccumulator | null = null;
  let work: ClientWork | null = null;
  const states = new Map<number, ClientState>();
  const samplers = new Map<number, ReturnType<typeof clientNegativeSource>>();

  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'init') {
      const algorithm = findAlgorithm(msg.algorithm);
      if (!algorithm) throw new Error(`simulation-worker: no registered algorithm '${msg.algorithm}'`);
      work = deviceWork(algorithm);
      init = msg;
      clients = partitionClients(msg.split, msg.usersPerClient, msg.seed);
      global = Object.fromEntries(Object.entries(msg.shared).map(([name, buf]) => [name, new Float32Array(buf)]));
      acc = new UpdateAccumulator(msg.info, msg.split.nItems);
      port.postMessage({ type: 'ready', clients: clients.length });
    } else if (msg.type === 'round') {
      if (!init || !acc || !work) throw new Error('round before init');
      acc.reset();
      let bytesUp = 0;
      const bounds = msg.bounds ?? init.bounds;
      const norms: number[] = [];
      for (const c of msg.clientIds) {
        const client = clients[c];
        let sampler = samplers.get(c);
        if (!sampler) samplers.set(c, (sampler = clientNegativeSource(init.split.nItems, client)));
        // folded at once below: the MF client need not copy its deltas out
        const { update, state } = work(msg.plan, global, client, states.get(c) ?? null, sampler, { transientUpdate: true });
        if (state) states.set(c, state);
        else states.delete(c);
        bytesUp += updateBytes(update);
        const folded = acc.addBounded(update, bounds);
        if (folded && folded.weight > 0) norms.push(folded.norm);
      }
      port.postMessage({ type: 'partial', partial: acc.partial(), bytesUp, norms });
    } else {
      const shares: LocalShare[] = [];
      for (const [c, state] of states) shares.push({ users: clients[c].users, local: state.local });
      port.postMessage({ type: 'locals', shares });
    }
  });
}

serve();
