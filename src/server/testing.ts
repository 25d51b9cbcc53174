/**
 * Test helpers for the deployment tests (not a test file): temp folders, the `fedrec` CLI as real
 * child processes, a coordinator process on an ephemeral port, bounded polling. Every child is
 * tracked so `killAll` in an `after` hook leaves nothing running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FEDREC_BIN = fileURLToPath(new URL('../../bin/fedrec.js', import.meta.url));

/** ML-100K from ../shared/data (relative to the package) or $FEDREC_ML100K; null when absent. */
export function ml100k(): string | null {
  const pkg = fileURLToPath(new URL('../../', import.meta.url));
  for (const c of [process.env.FEDREC_ML100K, resolve(pkg, '../shared/data/ml-100k')]) {
    if (c && existsSync(join(c, 'u.data'))) return c;
  }
  return null;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `fedrec-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns a value (not undefined/false), at most `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const started = Date.now();
  let lastError: unknown = null;
  while (Date.now() - started < timeoutMs) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastError = err;
      if (/exited/.test((err as Error).message)) break;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}

export interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

export class Children {
  private readonly all: Child[] = [];

  spawn(args: readonly string[], cwd?: string, env?: Readonly<Record<string, string>>): Child {
    const proc = spawn(process.execPath, [FEDREC_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : undefined });
    let out = '';
    let err = '';
    proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
    proc.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-200_000)));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const child: Child = { process: proc, exited, stdout: () => out, stderr: () => err };
    this.all.push(child);
    return child;
  }

  /** Run a CLI command to completion; throws with its stderr when it fails. */
  async run(args: readonly string[], timeoutMs = 60_000): Promise<string> {
    const child = this.spawn(args);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const code = await Promise.race([child.exited, timeout]);
    clearTimeout(timer); // a pending timer would keep the test process alive for timeoutMs
    if (code !== 0) throw new Error(`fedrec ${args.join(' ')} → ${code}\n${child.stderr()}`);
    return child.stdout();
  }

  killAll(): void {
    for (const c of this.all) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
  }
}

/** Start `fedrec serve` as a child process and wait for its URL. */
export async function serveProcess(children: Children, config: string, db: string, port = 0): Promise<{ child: Child; url: string }> {
  const child = children.spawn(['serve', '--config', config, '--db', db, '--port', String(port)]);
  const url = await waitFor('the coordinator to listen', () => {
    if (child.process.exitCode !== null) throw new Error(`fedrec serve exited: ${child.stderr()}`);
    return /listening on (http:\/\/[0-9.:]+)/.exec(child.stderr())?.[1];
  }, 60_000, 50);
  return { child, url };
}

export interface Health {
  completedRounds: number;
  totalRounds: number;
  openRound: number | null;
  updatesInRound: number;
  registeredClients: number;
  done: boolean;
}

export async function health(url: string): Promise<Health> {
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as Health;
}

/** A deployment folder: client files from `fedrec partition`, tokens from `fedrec token create`, a config file. */
export interface Deployment {
  readonly dir: string;
  readonly files: string[];
  readonly tokens: string[];
  readonly config: string;
  readonly db: string;
}

/** Data flags of `fedrec partition` for a training config (data path or synthetic sizes). */
function dataFlags(training: Record<string, unknown>): string[] {
  const flags: string[] = [];
  const map: Record<string, string> = {
    data: '--data', usersPerClient: '--users-per-client', seed: '--seed', split: '--split',
    syntheticUsers: '--synthetic-users', syntheticItems: '--synthetic-items', syntheticInteractions: '--synthetic-interactions',
    algorithm: '--algorithm', feedback: '--feedback', userSplit: '--user-split',
  };
  for (const [key, flag] of Object.entries(map)) if (training[key] !== undefined) flags.push(flag, String(training[key]));
  return flags;
}

export async function prepareDeployment(children: Children, dir: string, training: Record<string, unknown>, coordinator: Record<string, unknown>, tokens: number): Promise<Deployment> {
  const { readdirSync } = await import('node:fs');
  await children.run(['partition', '--out', join(dir, 'clients'), ...dataFlags(training)]);
  const files = readdirSync(join(dir, 'clients')).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, 'clients', f));
  const db = join(dir, 'coordinator.db');
  const out = await children.run(['token', 'create', '--db', db, '--count', String(tokens)]);
  const config = writeJson(join(dir, 'config.json'), { training, coordinator });
  return { dir, files, tokens: out.trim().split('\n'), config, db };
}

export function joinArgs(d: Deployment, url: string, k: number, extra: readonly string[] = []): string[] {
  return ['join', '--server', url, '--token', d.tokens[k], '--data', d.files[k], '--report', join(d.dir, `report-${k}.json`), '--max-minutes', '7', ...extra];
}

/** HR@10 over the (user, positive) pairs of several on-device reports. */
export async function combinedHr(d: Deployment, clients: readonly number[]): Promise<number> {
  const { readFileSync } = await import('node:fs');
  let sum = 0;
  let count = 0;
  for (const k of clients) {
    const r = JSON.parse(readFileSync(join(d.dir, `report-${k}.json`), 'utf8')) as { test: { count: number; sums: Record<string, number> } };
    sum += r.test.sums['HR@10'] ?? 0;
    count += r.test.count;
  }
  return sum / count;
}

/** The coordinator's current model, fetched with a client token. */
export async function fetchModel(url: string, token: string): Promise<{ version: number; global: Record<string, Float32Array> }> {
  const { decodeModel } = await import('../wire/messages.js');
  const res = await fetch(`${url}/v1/model`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  return decodeModel(new Uint8Array(await res.arrayBuffer())) as { version: number; global: Record<string, Float32Array> };
}

export function maxAbsDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let m = 0;
  for (const name of Object.keys(b)) {
    const x = a[name];
    const y = b[name];
    if (!x || x.length !== y.length) return Number.POSITIVE_INFINITY;
    for (let k = 0; k < x.length; k++) m = Math.max(m, Math.abs(x[k] - y[k]));
  }
  return m;
}
