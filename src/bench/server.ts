/**
 * Coordinator benchmark (`npm run bench -- server`): a `fedrec serve` process on loopback with the
 * ML-100K catalogue (MF dim 32), and N = 100 and N = 1000 concurrent simulated clients, each asking
 * for the round and sending one sparse MF update of ML-100K size per round (600 item rows ×
 * (32 + 1) values + the global bias ≈ 82 KB: an average user's positives and 4 negatives each over
 * 2 local epochs). Reports updates/s, p50 / p99 update latency (the request that closes a round
 * includes aggregating and checkpointing it) and the coordinator's peak RSS (from its /metrics).
 * Target: ≥ 500 updates/s with p99 ≤ 500 ms.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../math/rng.js';
import { encodeUpdate } from '../wire/messages.js';
import { FEDREC_BIN } from '../server/testing.js';
import { ml100kPath } from './util.js';

const ROWS = 600;
const DIM = 32;

/** A minimal keep-alive HTTP client (node:http): lighter than fetch, so the load generator costs less CPU. */
function request(agent: http.Agent, url: URL, method: string, path: string, headers: Record<string, string>, body?: Uint8Array): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path, agent, headers: body ? { ...headers, 'content-length': String(body.length) } : headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function sampleUpdate(round: number, nItems: number, rng: Rng): Uint8Array {
  const chosen = new Set<number>();
  while (chosen.size < ROWS) chosen.add(rng.int(nItems));
  const rows = Int32Array.from([...chosen].sort((a, b) => a - b));
  const emb = new Float32Array(ROWS * DIM).map(() => (rng.next() - 0.5) * 0.01);
  const bias = new Float32Array(ROWS).map(() => (rng.next() - 0.5) * 0.01);
  return encodeUpdate({ round, weight: 500, loss: 0.5, rows, itemTables: { itemEmb: emb, itemBias: bias }, denseTables: { globalBias: Float32Array.from([0.001]) } });
}

async function runCli(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [FEDREC_BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`fedrec ${args[0]} failed (${code})`);
  return out;
}

async function rssBytes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? 0);
}

async function scenario(n: number, rounds: number, data: string | null): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-bench-server-'));
  const db = join(dir, 'c.db');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    training: { ...(data ? { data } : {}), model: 'mf', dim: DIM, rounds: rounds + 1, seed: 1 },
    coordinator: { minClients: n, roundDeadlineSeconds: 600, retryAfterMs: 50 },
  }));
  const tokens = (await runCli(['token', 'create', '--db', db, '--count', String(n)])).trim().split('\n');
  const server = spawn(process.execPath, [FEDREC_BIN, 'serve', '--config', config, '--db', db, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
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
    const base = new URL(url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: n });
    const catalogue = (await (await fetch(`${url}/v1/catalogue`, { headers: { authorization: `Bearer ${tokens[0]}` } })).json()) as { nItems: number };
    const rng = new Rng(7);
    const latencies: number[] = [];
    let peakRss = await rssBytes(url);
    let bytes = 0;
    const started = performance.now();
    for (let round = 1; round <= rounds; round++) {
      const bodies = Array.from({ length: Math.min(n, 32) }, () => sampleUpdate(round, catalogue.nItems, rng));
      const sampler = setInterval(() => void rssBytes(url).then((r) => (peakRss = Math.max(peakRss, r)), () => undefined), 250);
      await Promise.all(tokens.map(async (token, k) => {
        const auth = { authorization: `Bearer ${token}` };
        for (let attempt = 0; ; attempt++) {
          const info = JSON.parse((await request(agent, base, 'GET', '/v1/round', auth)).text) as { status: string; round: number };
          if (info.status === 'train' && info.round === round) break;
          if (attempt > 200) throw new Error(`client ${k}: expected to train round ${round}, got ${JSON.stringify(info)}`);
          await new Promise((r) => setTimeout(r, 50)); // the previous round is still closing
        }
        const body = bodies[k % bodies.length];
        const t = performance.now();
        const res = await request(agent, base, 'POST', '/v1/update', { ...auth, 'content-type': 'application/octet-stream' }, body);
        if (res.status !== 200) throw new Error(`client ${k}: update refused with ${res.status}: ${res.text}`);
        latencies.push(performance.now() - t);
        bytes += body.length;
      }));
      clearInterval(sampler);
      peakRss = Math.max(peakRss, await rssBytes(url));
    }
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    latencies.sort((a, b) => a - b);
    const updates = latencies.length;
    process.stdout.write(
      `N=${String(n).padStart(4)}: ${updates} updates (${(bytes / updates / 1024).toFixed(0)} KiB each) in ${seconds.toFixed(2)} s → ${(updates / seconds).toFixed(0)} updates/s; ` +
        `latency p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms; coordinator peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB\n`,
    );
  } finally {
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
  process.stdout.write('target: ≥ 500 updates/s with p99 ≤ 500 ms (wall time includes closing each round: aggregation + checkpoint)\n');
  await scenario(100, 5, data);
  await scenario(1000, 2, data);
}
