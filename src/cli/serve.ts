/**
 * `fedrec serve --config FILE [--port N] [--host H] [--db PATH | --store postgres://…]`: run the coordinator until SIGINT /
 * SIGTERM. Logs are structured JSON (pino) on stdout; one plain line on stderr gives the URL.
 */
import { readServerConfig } from '../server/config.js';
import { startCoordinator } from '../server/serve.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';

export const SERVE_FLAGS: Record<string, FlagSpec> = {
  config: { key: 'config', kind: 'string', help: 'coordinator config JSON: { "training": {...}, "coordinator": {...} }' },
  port: { key: 'port', kind: 'integer', help: 'port (0: any free port; default from config, 8787)' },
  host: { key: 'host', kind: 'string', help: 'address to listen on (default 127.0.0.1)' },
  db: { key: 'db', kind: 'string', help: 'SQLite file (default fedrec.db)' },
  'tls-cert': { key: 'tlsCert', kind: 'string', help: 'serve HTTPS with this certificate (PEM; needs --tls-key)' },
  'tls-key': { key: 'tlsKey', kind: 'string', help: 'the private key (PEM) of --tls-cert' },
  store: { key: 'store', kind: 'string', help: 'the store instead of --db: a SQLite file or a postgres:// URL (replicas may share one PostgreSQL database)' },
};

export async function serveCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, SERVE_FLAGS) as { config?: string; port?: number; host?: string; db?: string; store?: string; tlsCert?: string; tlsKey?: string };
  if (!f.config) throw new UsageError('--config FILE is required');
  if (f.db && f.store) throw new UsageError('give --db or --store, not both');
  const config = readServerConfig(f.config);
  const running = await startCoordinator({ config, dbPath: f.store ?? f.db ?? 'fedrec.db', port: f.port, host: f.host, logger: { level: 'info' }, tlsCert: f.tlsCert, tlsKey: f.tlsKey });
  process.stderr.write(`fedrec serve: listening on ${running.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.close();
  return 0;
}
