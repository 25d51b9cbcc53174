/**
 * The coordinator's HTTP face (fastify): public `/healthz`, `/metrics` (Prometheus text), the demo
 * page `/` and the browser client bundle `/client.js`; authenticated protocol routes under `/v1`
 * (wire/protocol.ts). Requests are logged by fastify's pino logger (structured JSON); every error
 * is JSON `{ error, message }` naming what was wrong.
 */
import { readFile } from 'node:fs/promises';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Coordinator } from './coordinator.js';
import { registerDashboard } from './dashboard.js';
import { DEMO_PAGE } from './demo-page.js';
import { HttpError } from './errors.js';
import type { Metrics } from './metrics.js';
import { capConnections, registerHardening, registerRateLimit, serverOptions, TRANSPORT_DEFAULTS, type TransportOptions } from './hardening.js';
import { registerSecureRoutes } from './secure-routes.js';
import { hashToken } from './tokens.js';
import type { ClientRecord, Store } from './types.js';

declare module 'fastify' {
  interface FastifyRequest {
    client?: ClientRecord;
  }
}

export interface AppOptions {
  /** Builds the coordinator with the app's (pino) logger. */
  readonly makeCoordinator: (log: FastifyBaseLogger) => Coordinator;
  readonly metrics: Metrics;
  readonly bundlePath?: string;
  readonly logger?: FastifyServerOptions['logger'];
  /** The coordinator's store: the operator dashboard (/dashboard) is served when given. */
  readonly store?: Store;
  /** Timeouts, connection cap, rate limit, CORS, TLS (server/hardening.ts); defaults when absent. */
  readonly transport?: TransportOptions;
}

function sendError(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error, message });
}

export function buildApp(opts: AppOptions): { app: FastifyInstance; coordinator: Coordinator } {
  const { metrics } = opts;
  // Per-request logs would be two JSON lines per update; rounds, rejections and errors are logged instead.
  const transport = opts.transport ?? TRANSPORT_DEFAULTS;
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1 << 20, logController: new LogController({ disableRequestLogging: true }), ...serverOptions(transport) });
  metrics.countConnections = capConnections(app.server, transport.maxConnections, () => metrics.connectionsEvicted.inc());
  app.register(registerHardening, transport);
  const coordinator = opts.makeCoordinator(app.log);
  const updateLimit = coordinator.limits.maxBytes;

  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: updateLimit }, (_req, body, done) => done(null, body));

  // Hooks on the per-update path are callback-style: an async hook costs a promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (reply.statusCode >= 400) request.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request refused');
    metrics.requestSeconds.observe({ route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err instanceof HttpError) return sendError(reply, err.status, err.code, err.message);
    const isUpdate = request.url.startsWith('/v1/update');
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      if (isUpdate) metrics.updatesRejected.inc({ reason: 'too-large' });
      return sendError(reply, 413, 'too-large', `request body exceeds the limit of ${isUpdate ? updateLimit : 1 << 20} bytes`);
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      if (isUpdate) metrics.updatesRejected.inc({ reason: 'malformed' });
      return sendError(reply, 415, 'unsupported-media-type', `expected Content-Type application/octet-stream (a wire update message)`);
    }
    if (err.statusCode && err.statusCode < 500) {
      if (isUpdate) metrics.updatesRejected.inc({ reason: 'malformed' });
      return sendError(reply, err.statusCode, 'bad-request', err.message);
    }
    request.log.error({ err }, 'request failed');
    return sendError(reply, 500, 'internal', 'internal error: see the coordinator log');
  });

  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'not-found', `no route ${request.method} ${request.url}`));

  app.get('/healthz', async () => ({ ok: true, ...coordinator.status() }));

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(DEMO_PAGE));

  let bundle: Buffer | null = null;
  app.get('/client.js', async (_request, reply) => {
    if (!opts.bundlePath) return sendError(reply, 404, 'no-bundle', 'this coordinator serves no browser bundle');
    try {
      bundle ??= await readFile(opts.bundlePath);
    } catch {
      return sendError(reply, 404, 'no-bundle', `browser bundle ${opts.bundlePath} is missing: run npm run build:browser`);
    }
    return reply.type('text/javascript; charset=utf-8').send(bundle);
  });

  if (opts.store) registerDashboard(app, { coordinator, metrics, store: opts.store });

  app.register(
    async (v1) => {
      await registerRateLimit(v1, transport);
      // an early reply ends the request: done() is not called then
      v1.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        const header = request.headers.authorization;
        const isUpdate = request.url.startsWith('/v1/update');
        if (!header || !header.startsWith('Bearer ')) {
          if (isUpdate) metrics.updatesRejected.inc({ reason: 'unauthorized' });
          sendError(reply, 401, 'unauthorized', 'missing token: send Authorization: Bearer <token> (issued by fedrec token create)');
          return;
        }
        const hash = hashToken(header.slice('Bearer '.length).trim());
        const admit = (client: ClientRecord | null): void => {
          if (!client) {
            if (isUpdate) metrics.updatesRejected.inc({ reason: 'unauthorized' });
            sendError(reply, 401, 'unauthorized', 'unknown, revoked or expired token: ask the operator for a new one (fedrec token create)');
            return;
          }
          request.client = client;
          done();
        };
        // asked of the store at every request (never cached): a revocation by any process or replica counts at once
        coordinator.authenticate(hash).then(admit, (err: Error) => {
          request.log.error({ err }, 'token lookup failed');
          sendError(reply, 503, 'unavailable', 'the coordinator cannot reach its store right now; retry');
        });
      });

      v1.get('/round', async (request) => coordinator.roundInfo(request.client as ClientRecord));

      v1.get('/model', async (request, reply) => {
        // gzip when the client accepts it and it pays (Coordinator.modelGzip)
        const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? '')) ? coordinator.modelGzip() : null;
        const { version, bytes } = gzip ?? coordinator.model();
        if (gzip) reply.header('content-encoding', 'gzip');
        metrics.bytesSent.inc(bytes.length);
        return reply.type('application/octet-stream').header('vary', 'accept-encoding').header('x-fedrec-model-version', String(version)).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      });

      v1.get('/catalogue', async () => coordinator.catalogue);

      v1.post('/update', async (request) => {
        const body = request.body;
        if (!Buffer.isBuffer(body)) {
          metrics.updatesRejected.inc({ reason: 'malformed' });
          throw new HttpError(415, 'unsupported-media-type', 'expected Content-Type application/octet-stream (a wire update message)');
        }
        return coordinator.submit(request.client as ClientRecord, new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
      });

      registerSecureRoutes(v1, coordinator);
    },
    { prefix: '/v1' },
  );

  return { app, coordinator };
}
