/**
 * Cluster benchmark (`npm run bench -- cluster`): the coordinator on SQLite (one process) and on
 * PostgreSQL with 1, 2 and 3 replicas sharing one database (a throwaway PostgreSQL 15 from
 * Debian's packages), at N = 1 000 and N = 10 000 clients per round. Each client asks for
 * the round and sends one sparse MF update of ML-100K size (600 item rows × 33 values ≈ 82 KB, as
 * `bench -- server`) the moment its round opens (a burst: updates/s is the capacity, including each
 * round's close: reading the updates, folding, checkpointing); client k talks to replica k mod R
 * (a load balancer's round robin). Printed per row: updates/s, p50 / p99 update latency, CPU per
 * update of each replica (its /metrics), of the database server (its processes' /proc CPU) and of
 * the load generator, and each replica's peak RSS. The machine is shared: figures are indicative.
 * PostgreSQL runs with fsync off by default (FEDREC_BENCH_CLUSTER_FSYNC=on to turn it on): a commit
 * is then written to the OS before it is acknowledged, so it survives any process being killed but
 * not a power loss — the guarantee of the SQLite store (WAL, synchronous=NORMAL), so the rows
 * compare like with like. With fsync on every commit waits for the disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pgDriver from 'pg';
import { Rng } from '../math/rng.js';
import { FEDREC_BIN } from '../server/testing.js';
import { startTestPostgres, type TestPostgres } from '../server/pg-testing.js';
import { RawHttpConnection, requestHead } from './raw-http.js';
import { cpuSeconds, peakRssMiB, percentile, runCli, sampleUpdate } from './server.js';
import { ml100kPath } from './util.js';

const BODIES = 32;

/** Update requests answered 503 and sent again (printed with the table). */
let retried = 0;

interface Setup {
  readonly name: string;
  readonly postgres: boolean;
  readonly replicas: number;
}

async function startReplica(config: string, store: string): Promise<{ proc: ChildProcess; url: string }> {
  const nodeArgs = (process.env.FEDREC_BENCH_CLUSTER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, FEDREC_BIN, 'serve', '--config', config, '--store', store, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.on('exit', () => reject(new Error(`coordinator exited: ${err}`)));
  });
  return { proc, url };
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.on('exit', r));
  proc.kill('SIGTERM');
  const forced = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(forced);
}

/** One burst round: every client asks for round `round` (until its replica offers it) and sends its update; latencies in ms. */
async function burst(conns: readonly RawHttpConnection[], roundHeads: readonly Buffer[], updateHead: (k: number) => Buffer, body: (k: number) => Uint8Array, round: number): Promise<number[]> {
  return Promise.all(conns.map(async (conn, k) => {
    const started = performance.now();
    for (;;) {
      const info = JSON.parse((await conn.request(roundHeads[k])).body.toString()) as { status: string; round: number; retryAfterMs?: number };
      if (info.status === 'train' && info.round === round) break;
      if (performance.now() - started > 900_000) throw new Error(`client ${k}: expected to train round ${round}, got ${JSON.stringify(info)}`);
      // the previous round is closing, or this replica has not seen the new one yet: wait as told
      await new Promise((r) => setTimeout(r, info.retryAfterMs ?? 300));
    }
    const t = performance.now();
    // a 503 (store busy or unreachable for now, a replica behind) is retried after a pause, as the
    // real client does; the latency counts from the first attempt
    for (let attempt = 1; ; attempt++) {
      const res = await conn.request(updateHead(k), body(k));
      if (res.status === 200) break;
      if (res.status !== 503 || attempt === 20) throw new Error(`client ${k}: update refused with ${res.status}: ${res.body.toString()}`);
      retried++;
      await new Promise((r) => setTimeout(r, 300));
    }
    return performance.now() - t;
  }));
}

async function scenario(setup: Setup, n: number, warmUp: number, rounds: number, data: string | null, pg: TestPostgres | null): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-bench-cluster-'));
  const config = join(dir, 'config.json');
  const total = warmUp + rounds;
  writeFileSync(config, JSON.stringify({
    training: { ...(data ? { data } : {}), model: 'mf', dim: 32, rounds: total + 1, seed: 1 },
    // the default retry hint (300 ms), honoured by the simulated clients; the transport limits are
    // raised so that N idle keep-alive clients are neither evicted nor timed out during a long burst
    coordinator: { minClients: n, roundDeadlineSeconds: 3600, maxConnections: n + 64, keepAliveTimeoutSeconds: 3600, idleTimeoutSeconds: 3600, headersTimeoutSeconds: 600, requestTimeoutSeconds: 3600 },
  }));
  const store = setup.postgres ? await (pg as TestPostgres).database() : join(dir, 'c.db');
  const tokens = (await runCli(['token', 'create', '--store', store, '--count', String(n)])).trim().split('\n');
  const replicas: { proc: ChildProcess; url: string }[] = [];
  const conns: RawHttpConnection[] = [];
  try {
    for (let r = 0; r < setup.replicas; r++) replicas.push(await startReplica(config, store));
    const catalogue = (await (await fetch(`${replicas[0].url}/v1/catalogue`, { headers: { authorization: `Bearer ${tokens[0]}` } })).json()) as { nItems: number };
    const rng = new Rng(7);
    const bodies = Array.from({ length: total }, (_, r) => Array.from({ length: BODIES }, () => sampleUpdate(r + 1, catalogue.nItems, rng)));
    const hostOf = (k: number) => new URL(replicas[k % replicas.length].url);
    const roundHeads = tokens.map((token, k) => requestHead('GET', hostOf(k).host, '/v1/round', { authorization: `Bearer ${token}` }));
    const updateHeads = tokens.map((token, k) => requestHead('POST', hostOf(k).host, '/v1/update', {
      authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(bodies[0][0].length),
    }));
    for (let k = 0; k < n; k += 200) {
      const batch = tokens.slice(k, k + 200).map((_, j) => RawHttpConnection.open(hostOf(k + j).hostname, Number(hostOf(k + j).port)));
      conns.push(...(await Promise.all(batch)));
    }
    for (let r = 1; r <= warmUp; r++) await burst(conns, roundHeads, (k) => updateHeads[k], (k) => bodies[r - 1][k % BODIES], r);

    const load = loadavg()[0];
    const cpuBefore = await Promise.all(replicas.map((r) => cpuSeconds(r.url)));
    const dbBefore = pg && setup.postgres ? pg.cpuSeconds() : 0;
    const ownBefore = process.cpuUsage();
    const latencies: number[] = [];
    const started = performance.now();
    for (let r = warmUp + 1; r <= total; r++) {
      latencies.push(...(await burst(conns, roundHeads, (k) => updateHeads[k], (k) => bodies[r - 1][k % BODIES], r)));
    }
    // the last round's close is part of the work: wait until every replica reports it
    for (const rep of replicas) {
      for (;;) {
        const h = (await (await fetch(`${rep.url}/healthz`)).json()) as { completedRounds: number };
        if (h.completedRounds >= total) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const own = process.cpuUsage(ownBefore);
    const cpuAfter = await Promise.all(replicas.map((r) => cpuSeconds(r.url)));
    const dbMs = pg && setup.postgres ? ((pg.cpuSeconds() - dbBefore) * 1000) / latencies.length : NaN;
    const perReplica = cpuAfter.map((c, i) => ((c - cpuBefore[i]) * 1000) / latencies.length);
    const sorted = [...latencies].sort((a, b) => a - b);
    const rss = replicas.map((r) => peakRssMiB(r.proc.pid as number).toFixed(0));
    if (process.env.FEDREC_BENCH_CLUSTER_PROFILE && setup.postgres) await printStatements(store);
    return `| ${setup.name} | ${n} | ${latencies.length} | ${(latencies.length / seconds).toFixed(0)} | ${percentile(sorted, 0.5).toFixed(0)} | ${percentile(sorted, 0.99).toFixed(0)} | ` +
      `${perReplica.map((c) => c.toFixed(2)).join(' + ')} | ${Number.isNaN(dbMs) ? 'in process' : dbMs.toFixed(2)} | ${(((own.user + own.system) / 1000) / latencies.length).toFixed(2)} | ${rss.join(' / ')} | ${load.toFixed(1)} |`;
  } finally {
    for (const c of conns) c.close();
    await Promise.all(replicas.map((r) => stop(r.proc)));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** FEDREC_BENCH_CLUSTER_PROFILE=1: the statements that took the database's time (pg_stat_statements), to stderr. */
async function printStatements(url: string): Promise<void> {
  const c = new pgDriver.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ calls: string; total: number; mean: number; query: string }>(
      "SELECT calls, round(total_exec_time::numeric, 0)::float8 AS total, round(mean_exec_time::numeric, 3)::float8 AS mean, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT 12",
    );
    for (const r of rows) process.stderr.write(`  ${String(r.total).padStart(8)} ms ${String(r.calls).padStart(7)} calls ${String(r.mean).padStart(9)} ms/call  ${r.query}\n`);
    await c.query('SELECT pg_stat_statements_reset()');
  } finally {
    await c.end();
  }
}

export async function clusterBenchmark(): Promise<void> {
  const data = ml100kPath();
  const sizes = (process.env.FEDREC_BENCH_CLUSTER_N ?? '1000,10000').split(',').map(Number);
  const setups: Setup[] = [
    { name: 'SQLite, 1 process', postgres: false, replicas: 1 },
    { name: 'PostgreSQL, 1 replica', postgres: true, replicas: 1 },
    { name: 'PostgreSQL, 2 replicas', postgres: true, replicas: 2 },
    { name: 'PostgreSQL, 3 replicas', postgres: true, replicas: 3 },
  ];
  const fsync = process.env.FEDREC_BENCH_CLUSTER_FSYNC === 'on';
  const wanted = (process.env.FEDREC_BENCH_CLUSTER_SETUPS ?? 'sqlite,pg1,pg2,pg3').split(',');
  const keys = ['sqlite', 'pg1', 'pg2', 'pg3'];
  const chosen = setups.filter((_, i) => wanted.includes(keys[i]));
  const profile = Boolean(process.env.FEDREC_BENCH_CLUSTER_PROFILE);
  const pg = await startTestPostgres({ fsync, maxConnections: 200, settings: profile ? { shared_preload_libraries: 'pg_stat_statements' } : {} });
  if (profile) {
    const c = new pgDriver.Client({ connectionString: pg.adminUrl.replace('/postgres?', '/template1?') });
    await c.connect();
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements'); // in template1: every bench database has the view
    await c.end();
  }
  try {
    process.stdout.write(`catalogue: ${data ? 'ML-100K' : 'synthetic'}; updates ≈ 82 KB; burst rounds (every client sends when its round opens); PostgreSQL fsync ${fsync ? 'on' : 'off'}\n`);
    process.stdout.write('| setup | clients/round | updates timed | updates/s | p50 ms | p99 ms | CPU ms/update per replica | DB CPU ms/update | load generator CPU ms/update | peak RSS MiB per replica | load avg |\n|---|---|---|---|---|---|---|---|---|---|---|\n');
    for (const n of sizes) {
      for (const setup of chosen) {
        retried = 0;
        const row = await scenario(setup, n, n >= 10_000 ? 0 : 1, n >= 10_000 ? 1 : 2, data, pg);
        process.stdout.write(row + '\n');
        if (retried > 0) process.stdout.write(`  (${setup.name}, N = ${n}: ${retried} update requests answered 503 and retried)\n`);
      }
    }
  } finally {
    pg.stop();
  }
}
