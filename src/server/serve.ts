/**
 * Starting and stopping a coordinator: open the store, build the catalogue from the configured
 * data, restore (or initialise) the model, make sure the browser bundle exists, listen, and copy
 * the WAL into the database file in the background (WalCheckpointer).
 */
import { existsSync } from 'node:fs';
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify';
import { loadConfiguredDataset } from '../config/configured-data.js';
import { ConfigError } from '../config/config.js';
import { buildApp } from './app.js';
import { catalogueOf } from './catalogue.js';
import type { ServerConfig } from './config.js';
import { Coordinator } from './coordinator.js';
import { Metrics } from './metrics.js';
import { openStore } from './open-store.js';
import { isPostgresUrl, redactUrl } from './pg-store.js';
import type { Store } from './types.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { DEFAULT_BUNDLE } from '../client/bundle.js';

export { DEFAULT_BUNDLE };

export interface RunningCoordinator {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly coordinator: Coordinator;
  readonly store: Store;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly config: ServerConfig;
  /** A SQLite file, or a postgres:// URL (a database several replicas may share). */
  readonly dbPath: string;
  readonly port?: number;
  readonly host?: string;
  readonly logger?: FastifyServerOptions['logger'];
  /** Build the browser bundle when it is missing (needs esbuild). Default true. */
  readonly buildBundle?: boolean;
  /** TLS certificate and key files (PEM); override the config's tlsCert / tlsKey. */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

export async function startCoordinator(opts: StartOptions): Promise<RunningCoordinator> {
  const { config } = opts;
  const dataset = await loadConfiguredDataset(config.training);
  const catalogue = catalogueOf(dataset);
  const bundlePath = config.coordinator.bundlePath ?? DEFAULT_BUNDLE;
  if (!existsSync(bundlePath) && opts.buildBundle !== false) {
    try {
      const { buildBrowserBundle } = await import('../client/bundle.js');
      await buildBrowserBundle(bundlePath);
    } catch (err) {
      process.stderr.write(`fedrec serve: browser bundle not built (${(err as Error).message}); the demo page will not work\n`);
    }
  }
  const postgres = isPostgresUrl(opts.dbPath);
  let log: FastifyBaseLogger | null = null;
  const store = await openStore(opts.dbPath, {
    keepCheckpoints: config.coordinator.keepCheckpoints,
    checkIntegrity: true,
    onIdleError: (err) => log?.warn({ err: err.message }, 'an idle database connection failed; the pool replaces it'),
  });
  const metrics = new Metrics();
  let built;
  try {
    const c = config.coordinator;
    const transport = { ...c, tlsCert: opts.tlsCert ?? c.tlsCert, tlsKey: opts.tlsKey ?? c.tlsKey };
    built = buildApp({ makeCoordinator: (l) => new Coordinator(store, config, catalogue, metrics, (log = l)), metrics, bundlePath, logger: opts.logger, transport, store });
    await built.coordinator.load();
  } catch (err) {
    await store.close();
    throw err;
  }
  const { app: real, coordinator } = built;
  const transport = { tlsCert: opts.tlsCert ?? config.coordinator.tlsCert };
  const host = opts.host ?? config.coordinator.host;
  const port = opts.port ?? config.coordinator.port;
  try {
    await real.listen({ host, port });
  } catch (err) {
    await real.close().catch(() => undefined);
    await store.close();
    throw listenError(err as NodeJS.ErrnoException, host, port);
  }
  // PostgreSQL checkpoints its own WAL; a SQLite file gets the background copier
  const checkpointer = postgres ? null : new WalCheckpointer(opts.dbPath, (err) => real.log.warn({ err }, 'background WAL checkpoint failed'));
  real.log.info({ store: postgres ? redactUrl(opts.dbPath) : opts.dbPath }, 'store opened');
  const address = real.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  coordinator.start();
  return {
    url: `${transport.tlsCert ? 'https' : 'http'}://${host}:${actualPort}`,
    app: real,
    coordinator,
    store,
    close: async () => {
      await real.close();
      await coordinator.stop();
      await checkpointer?.close();
      await store.close();
    },
  };
}

/** A listen failure as one clear line (port taken, address not on this machine, no permission). */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  if (err.code === 'EADDRINUSE') return new ConfigError(`cannot listen on ${where}: the port is already in use (stop the other process or pass --port)`);
  if (err.code === 'EADDRNOTAVAIL') return new ConfigError(`cannot listen on ${where}: the address is not one of this machine's (--host)`);
  if (err.code === 'EACCES') return new ConfigError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`);
  return err;
}
