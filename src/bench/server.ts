/**
 * Coordinator benchmark (`npm run bench -- server`): a `fedrec serve` process on loopback with the
 * ML-100K catalogue (MF dim 32), and N = 100 and N = 1000 concurrent simulated clients, each asking
 * for the round and sending one sparse MF update of ML-100K size per round (600 item rows ×
 * (32 + 1) values + the global bias ≈ 82 KB: an average user's positives and 4 negatives each over
 * 2 local epochs). After warm-up rounds of 1000 updates in all (the JIT compiles the update path),
 * two measurements on the same coordinator:
 *  - burst: every client sends the moment its round opens: updates/s is the coordinator's capacity
 *    (wall time includes closing each round: aggregation and checkpoint), and an update's latency
 *    includes queueing behind the others of the burst (the last of N waits for all N);
 *  - paced: clients send at 500 updates/s in all (each at its slot in a shuffled order): the
 *    latency of an update at the target rate.
 * Also printed: p50 / p99 update latency, the coordinator's peak RSS (the kernel's VmHWM) and, to
 * judge a run on a shared machine, the CPU per update of the coordinator and of the load generator
 * and the load average. The load generator is this process: one keep-alive connection per client,
 * opened before the clock starts, every request encoded before it starts too and sent with a raw
 * HTTP/1.1 client (raw-http.ts), so that it takes little CPU from the coordinator.
 * Target: ≥ 500 updates/s with p99 ≤ 500 ms, judged as the burst capacity (≥ 500 updates/s) and
 * the p99 of updates sent at 500 updates/s (≤ 500 ms): a burst's p99 is the time to drain N
 * simultaneous uploads (≈ N / capacity), a queue no coordinator avoids, not a latency at the rate.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../math/rng.js';
import { encodeUpdate } from '../wire/messages.js';
import { FEDREC_BIN } from '../server/testing.js';
import { RawHttpConnection, requestHead } from './raw-http.js';
import { ml100kPath } from './util.js';

const ROWS = 600;
const DIM = 32;
/** Distinct update bodies per round (clients share them: the coordinator cannot tell). */
const BODIES = 32;
const TARGET_RATE = 500;
const TARGET_P99_MS = 500;
const WARM_UP_UPDATES = 1000;

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function sampleUpdate(round: number, nItems: number, rng: Rng): Uint8Array {
  const chosen = new Set<number>();
  while (chosen.size < ROWS) chosen.add(rng.int(nItems));
  const rows = Int32Array.from([...chosen].sort((a, b) => a - b));
  const emb = new Float32Array(ROWS * DIM).map(() => (rng.next() - 0.5) * 0.01);
  const bias = new Float32Array(ROWS).map(() => (rng.next() - 0.5) * 0.01);
  return encodeUpdate({ round, weight: 500, loss: 0.5, rows, itemTables: { itemEmb: emb, itemBias: bias }, denseTables: { globalBias: Float32Array.from([0.001]) } });
}

export async function runCli(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [FEDREC_BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`fedrec ${args[0]} failed (${code})`);
  return out;
}

/** CPU seconds the coordinator has used, from its /metrics (read outside the timed part). */
export async function cpuSeconds(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^process_cpu_seconds_total (\S+)/m.exec(text)?.[1] ?? NaN);
}

/** Peak resident set size of a process in MiB (Linux /proc VmHWM), NaN when unknown. */
export function peakRssMiB(pid: number): number {
  try {
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/** N simulated clients, each with its connection and its requests encoded in advance. */
class Clients {
  private constructor(
    private readonly connections: readonly RawHttpConnection[],
    private readonly roundHeads: readonly Buffer[],
    /** updateHeads[k][r − 1]: client k's POST head for round r (its body's length). */
    private readonly updateHeads: readonly (readonly Buffer[])[],
    /** bodies[r − 1][b]: the update bodies of round r. */
    private readonly bodies: readonly (readonly Uint8Array[])[],
  ) {}

  static async open(url: string, tokens: readonly string[], rounds: number, nItems: number): Promise<Clients> {
    const { hostname, port, host } = new URL(url);
    const rng = new Rng(7);
    const bodies = Array.from({ length: rounds }, (_, r) => Array.from({ length: Math.min(tokens.length, BODIES) }, () => sampleUpdate(r + 1, nItems, rng)));
    const roundHeads = tokens.map((token) => requestHead('GET', host, '/v1/round', { authorization: `Bearer ${token}` }));
    const updateHeads = tokens.map((token, k) => bodies.map((b) => requestHead('POST', host, '/v1/update', {
      authorization: `Bearer ${token}`,
      'content-type': 'application/octet-stream',
      'content-length': String(b[k % b.length].length),
    })));
    const connections: RawHttpConnection[] = [];
    while (connections.length < tokens.length) connections.push(await RawHttpConnection.open(hostname, Number(port)));
    return new Clients(connections, roundHeads, updateHeads, bodies);
  }

  get size(): number {
    return this.connections.length;
  }

  /**
   * Round `round`: client k waits until `sendAt(k)` ms after the start, asks for the round (again
   * while the previous one is closing) and sends its update. Returns each update's latency in ms.
   */
  async round(round: number, sendAt: (k: number) => number): Promise<number[]> {
    const start = performance.now();
    return Promise.all(this.connections.map(async (conn, k) => {
      const wait = start + sendAt(k) - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (let attempt = 0; ; attempt++) {
        const info = JSON.parse((await conn.request(this.roundHeads[k])).body.toString()) as { status: string; round: number };
        if (info.status === 'train' && info.round === round) break;
        if (attempt > 200) throw new Error(`client ${k}: expected to train round ${round}, got ${JSON.stringify(info)}`);
        await new Promise((r) => setTimeout(r, 50)); // the previous round is still closing
      }
      const t = performance.now();
      const res = await conn.request(this.updateHeads[k][round - 1], this.bodies[round - 1][k % BODIES]);
      if (res.status !== 200) throw new Error(`client ${k}: update refused with ${res.status}: ${res.body.toString()}`);
      return performance.now() - t;
    }));
  }

  bodyBytes(round: number): number {
    return this.bodies[round - 1][0].length;
  }

  close(): void {
    for (const c of this.connections) c.close();
  }
}

function latencyText(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  return `latency p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms`;
}

async function scenario(n: number, rounds: number, data: string | null): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-bench-server-'));
  const db = join(dir, 'c.db');
  const config = join(dir, 'config.json');
  const warmUp = Math.ceil(WARM_UP_UPDATES / n);
  const total = warmUp + 2 * rounds; // warm-up, burst, paced
  writeFileSync(config, JSON.stringify({
    training: { ...(data ? { data } : {}), model: 'mf', dim: DIM, rounds: total + 1, seed: 1 },
    coordinator: { minClients: n, roundDeadlineSeconds: 600, retryAfterMs: 50 },
  }));
  const tokens = (await runCli(['token', 'create', '--db', db, '--count', String(n)])).trim().split('\n');
  const server = spawn(process.execPath, [FEDREC_BIN, 'serve', '--config', config, '--db', db, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let clients: Clients | null = null;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      server.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on (http:\/\/[0-9.:]+)/.exec(err);
        if (m) resolve(m[1]);
      });
      server.on('exit', () => reject(new Error(`coordinator exited: ${err}`)));
    });
    const catalogue = (await (await fetch(`${url}/v1/catalogue`, { headers: { authorization: `Bearer ${tokens[0]}` } })).json()) as { nItems: number };
    clients = await Clients.open(url, tokens, total, catalogue.nItems);
    const label = `N=${String(n).padStart(4)}`;
    for (let r = 1; r <= warmUp; r++) await clients.round(r, () => 0);

    const load = loadavg()[0];
    const cpuBefore = await cpuSeconds(url);
    const ownBefore = process.cpuUsage();
    const burst: number[] = [];
    const started = performance.now();
    for (let r = warmUp + 1; r <= warmUp + rounds; r++) burst.push(...(await clients.round(r, () => 0)));
    const seconds = (performance.now() - started) / 1000;
    const own = process.cpuUsage(ownBefore);
    const serverMs = ((await cpuSeconds(url)) - cpuBefore) * 1000 / burst.length;
    const loadMs = (own.user + own.system) / 1000 / burst.length;
    process.stdout.write(
      `${label} burst: ${burst.length} updates (${(clients.bodyBytes(1) / 1024).toFixed(0)} KiB each) in ${seconds.toFixed(2)} s → ${(burst.length / seconds).toFixed(0)} updates/s; ` +
        `${latencyText(burst)}; CPU per update: coordinator ${serverMs.toFixed(2)} ms, load generator ${loadMs.toFixed(2)} ms; load average ${load.toFixed(1)}\n`,
    );

    const paced: number[] = [];
    const rng = new Rng(11);
    let sending = 0;
    for (let r = warmUp + rounds + 1; r <= total; r++) {
      const slot = rng.shuffle(Int32Array.from({ length: n }, (_, k) => k));
      const roundStart = performance.now();
      paced.push(...(await clients.round(r, (k) => (slot[k] * 1000) / TARGET_RATE)));
      sending += (performance.now() - roundStart) / 1000;
    }
    const pacedRate = paced.length / sending;
    const pacedP99 = percentile([...paced].sort((a, b) => a - b), 0.99);
    process.stdout.write(
      `${label} paced at ${TARGET_RATE} updates/s: ${paced.length} updates at ${pacedRate.toFixed(0)} updates/s while rounds are open, ${latencyText(paced)}; ` +
        `coordinator peak RSS ${peakRssMiB(server.pid as number).toFixed(0)} MiB\n`,
    );
    const capacity = burst.length / seconds;
    const met = capacity >= TARGET_RATE && pacedRate >= 0.95 * TARGET_RATE && pacedP99 <= TARGET_P99_MS;
    process.stdout.write(
      `${label} target ${met ? 'MET' : 'NOT MET'}: capacity ${capacity.toFixed(0)} updates/s (≥ ${TARGET_RATE}), p99 ${pacedP99.toFixed(0)} ms at ${TARGET_RATE} updates/s (≤ ${TARGET_P99_MS} ms)\n`,
    );
  } finally {
    clients?.close();
    const exited = new Promise((r) => (server.exitCode !== null || server.signalCode !== null ? r(null) : server.on('exit', r)));
    server.kill('SIGTERM');
    const forced = setTimeout(() => server.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(forced);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function serverBenchmark(): Promise<void> {
  const data = ml100kPath();
  process.stdout.write(`target: ≥ ${TARGET_RATE} updates/s with p99 ≤ ${TARGET_P99_MS} ms (capacity from the burst, p99 at the paced rate)\n`);
  await scenario(100, 10, data);
  await scenario(1000, 2, data);
}
