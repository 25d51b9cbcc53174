/**
 * A throwaway PostgreSQL server for tests and benchmarks (not a test file): `initdb` into a temp
 * folder, `pg_ctl start` listening only on a unix socket in that folder (a free port number names
 * the socket), one fresh database per `database()` call, `stop()` removes everything. Uses the
 * Debian packages' binaries (/usr/lib/postgresql/N/bin, or initdb/pg_ctl on the PATH). As root,
 * the server runs as the `postgres` user (PostgreSQL refuses to run as root).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** postgres:// URL of the server's `postgres` database (administration). */
  readonly adminUrl: string;
  /** Create a fresh, empty database and return its URL. */
  database(): Promise<string>;
  /** Kill the server connections of a database (pg_terminate_backend), as a network cut would. */
  terminateConnections(url: string): Promise<number>;
  /** CPU seconds (user + system) used so far by the server's processes (postmaster and backends, reaped ones included). */
  cpuSeconds(): number;
  stop(): void;
}

/** The directory of initdb/pg_ctl/postgres, or null when PostgreSQL's server binaries are not installed. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0], 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'postgres'))) return dir;
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

let serial = 0;

/** Start a server; `fsync: false` (the default, for tests) keeps crash safety against process kills, not power loss. */
export async function startTestPostgres(opts: { fsync?: boolean; maxConnections?: number; settings?: Readonly<Record<string, string>> } = {}): Promise<TestPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const run = (cmd: string, args: string[]): void => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-U', 'fedrec', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C']);
    const options = [
      `-c listen_addresses=''`, `-c unix_socket_directories=${dir}`, `-p ${port}`,
      `-c fsync=${opts.fsync ? 'on' : 'off'}`, `-c max_connections=${opts.maxConnections ?? 100}`, '-c shared_buffers=64MB',
      ...Object.entries(opts.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`),
    ].join(' ');
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`cannot start a throwaway PostgreSQL: ${e.stderr?.toString() || e.message}`);
  }
  const url = (db: string) => `postgresql://fedrec@localhost:${port}/${db}?host=${encodeURIComponent(dir)}`;
  const adminUrl = url('postgres');
  const admin = async <T>(work: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  };
  let stopped = false;
  return {
    adminUrl,
    async database() {
      const name = `fedrec_${process.pid}_${++serial}`;
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      return url(name);
    },
    async terminateConnections(target: string) {
      const name = new URL(target).pathname.slice(1);
      return admin(async (c) => {
        const r = await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        return r.rowCount ?? 0;
      });
    },
    cpuSeconds() {
      const tick = 100; // USER_HZ on Linux
      const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const fields = (pid: number): string[] | null => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
        } catch {
          return null;
        }
      };
      let total = 0;
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const f = fields(Number(entry));
        if (!f) continue;
        const pid = Number(entry);
        const ppid = Number(f[1]);
        if (pid !== postmaster && ppid !== postmaster) continue;
        total += Number(f[11]) + Number(f[12]); // utime, stime
        if (pid === postmaster) total += Number(f[13]) + Number(f[14]); // cutime, cstime: exited backends
      }
      return total / tick;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        /* already gone */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
