/**
 * Starting and stopping a coordinator: open the store, build the catalogue from the configured
 * data, restore (or initialise) the model, make sure the browser bundle exists, listen, and copy
 * the WAL into the database file in the background (WalCheckpointer).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { loadConfiguredDataset } from '../runtime/experiment.js';
import { buildApp } from './app.js';
import { catalogueOf } from './catalogue.js';
import type { ServerConfig } from './config.js';
import { Coordinator } from './coordinator.js';
import { Metrics } from './metrics.js';
import { SqliteStore } from './sqlite-store.js';
import { WalCheckpointer } from './wal-checkpointer.js';

export const DEFAULT_BUNDLE = fileURLToPath(new URL('../client/bundle/fedrec-client.js', import.meta.url));

export interface RunningCoordinator {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly coordinator: Coordinator;
  readonly store: SqliteStore;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly config: ServerConfig;
  readonly dbPath: string;
  readonly port?: number;
  readonly host?: string;
  readonly logger?: FastifyServerOptions['logger'];
  /** Build the browser bundle when it is missing (needs esbuild). Default true. */
  readonly buildBundle?: boolean;
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
  const store = new SqliteStore(opts.dbPath, { keepCheckpoints: config.coordinator.keepCheckpoints });
  const metrics = new Metrics();
  let built;
  try {
    built = buildApp({ makeCoordinator: (log) => new Coordinator(store, config, catalogue, metrics, log), metrics, bundlePath, logger: opts.logger, store });
  } catch (err) {
    store.close();
    throw err;
  }
  const { app: real, coordinator } = built;
  const host = opts.host ?? config.coordinator.host;
  const port = opts.port ?? config.coordinator.port;
  await real.listen({ host, port });
  const checkpointer = new WalCheckpointer(opts.dbPath, (err) => real.log.warn({ err }, 'background WAL checkpoint failed'));
  const address = real.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  coordinator.start();
  return {
    url: `http://${host}:${actualPort}`,
    app: real,
    coordinator,
    store,
    close: async () => {
      coordinator.stop();
      await real.close();
      await checkpointer.close();
      store.close();
    },
  };
}
