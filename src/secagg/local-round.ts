/**
 * One secure-aggregation round with every party in this process and no transport: the client and
 * server state machines exchange their messages directly, and clients can drop out before any
 * phase. Used by the tests (drop-out at each phase) and by the privacy benchmark (what the
 * coordinator receives, bytes and CPU per party). The bytes are those of the JSON / binary wire
 * forms (wire.ts) the deployed coordinator exchanges.
 */
import { SecAggClient } from './client.js';
import { SecAggServer } from './server.js';
import { SecAggAbort, type SecAggPhase, type SecAggSettings } from './types.js';
import { keysBody, maskedBody, rosterBody, sharesBody, incomingBody, unmaskBody, survivorsBody } from './wire.js';

export interface LocalRoundResult {
  /** The unmasked sum, or null when the round aborted. */
  readonly sum: Uint32Array | null;
  readonly abort: string | null;
  readonly contributors: readonly number[];
  /** What the coordinator received as masked input, by client. */
  readonly masked: ReadonlyMap<number, Uint32Array>;
  /** Bytes each client sent and received (bodies only), by client. */
  readonly bytesUp: ReadonlyMap<number, number>;
  readonly bytesDown: ReadonlyMap<number, number>;
  /** CPU milliseconds of each client's protocol steps, and of the coordinator's. */
  readonly clientMs: ReadonlyMap<number, number>;
  readonly serverMs: number;
}

/**
 * Run a round over `inputs` (client id → encoded vector); a client listed in `dropBefore` vanishes
 * just before it would send that phase's message.
 */
export async function runLocalRound(
  settings: SecAggSettings,
  inputs: ReadonlyMap<number, Uint32Array>,
  dropBefore: ReadonlyMap<number, SecAggPhase> = new Map(),
  options: { keepMasked?: boolean } = {},
): Promise<LocalRoundResult> {
  const ids = [...inputs.keys()].sort((a, b) => a - b);
  const server = new SecAggServer(settings, ids);
  const clients = new Map(ids.map((id) => [id, new SecAggClient(id, settings)]));
  const up = new Map(ids.map((id) => [id, 0]));
  const down = new Map(ids.map((id) => [id, 0]));
  const cpu = new Map(ids.map((id) => [id, 0]));
  const masked = new Map<number, Uint32Array>();
  let serverMs = 0;
  const alive = (id: number, phase: SecAggPhase) => dropBefore.get(id) !== phase && !gone.has(id);
  const gone = new Set<number>();
  const timed = async <T>(id: number | null, work: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const out = await work();
    const ms = performance.now() - t0;
    if (id === null) serverMs += ms;
    else cpu.set(id, (cpu.get(id) ?? 0) + ms);
    return out;
  };
  const add = (m: Map<number, number>, id: number, n: number) => m.set(id, (m.get(id) ?? 0) + n);
  const step = async (phase: SecAggPhase, act: (id: number) => Promise<void>): Promise<void> => {
    for (const id of ids) {
      if (!alive(id, phase)) {
        gone.add(id);
        continue;
      }
      const view = server.viewFor(id);
      if (view.phase !== phase) continue;
      await act(id);
    }
  };
  try {
    await step('keys', async (id) => {
      const m = await timed(id, () => (clients.get(id) as SecAggClient).advertise());
      add(up, id, keysBody(m).length);
      await timed(null, () => server.addKeys(id, m));
    });
    await timed(null, () => server.closeKeys());
    await step('shares', async (id) => {
      const view = server.viewFor(id);
      if (view.phase !== 'shares') return;
      add(down, id, rosterBody(view.roster).length);
      const m = await timed(id, () => (clients.get(id) as SecAggClient).shareKeys(view.roster));
      add(up, id, sharesBody(m).length);
      await timed(null, () => server.addShares(id, m));
    });
    await timed(null, () => server.closeShares());
    await step('masked', async (id) => {
      const view = server.viewFor(id);
      if (view.phase !== 'masked') return;
      add(down, id, incomingBody(view.incoming).length);
      const y = await timed(id, () => (clients.get(id) as SecAggClient).maskedInput(view.incoming, inputs.get(id) as Uint32Array));
      add(up, id, maskedBody(y).length);
      if (options.keepMasked !== false) masked.set(id, y);
      await timed(null, () => server.addMasked(id, y));
    });
    await timed(null, () => server.closeMasked());
    await step('unmask', async (id) => {
      const view = server.viewFor(id);
      if (view.phase !== 'unmask') return;
      add(down, id, survivorsBody(view.survivors, view.dropped).length);
      const m = await timed(id, () => (clients.get(id) as SecAggClient).unmask(view.survivors, view.dropped));
      add(up, id, unmaskBody(m).length);
      await timed(null, () => server.addUnmask(id, m));
    });
    const sum = await timed(null, () => server.finish());
    return { sum, abort: null, contributors: server.contributors(), masked, bytesUp: up, bytesDown: down, clientMs: cpu, serverMs };
  } catch (err) {
    if (!(err instanceof SecAggAbort)) throw err;
    return { sum: null, abort: err.message, contributors: [], masked, bytesUp: up, bytesDown: down, clientMs: cpu, serverMs };
  }
}
