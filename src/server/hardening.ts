/**
 * The coordinator's defences against a hostile network (issue 19), kept apart from the routes:
 *  - timeouts: an idle socket is closed after `idleTimeoutSeconds`, a request whose headers (or
 *    whole body) have not arrived in time is answered 408 and closed, keep-alive sockets close
 *    after `keepAliveTimeoutSeconds` without a request;
 *  - a cap on open connections: past `maxConnections`, a new connection evicts the oldest one with
 *    no request in flight (an idle-socket flood costs the flooder its own sockets, never /healthz);
 *  - TLS when given a certificate and key (`fedrec serve --tls-cert --tls-key`);
 *  - security headers on every response (@fastify/helmet), a Content-Security-Policy on the demo
 *    page, CORS only for configured origins (@fastify/cors; the protocol needs none: the page is
 *    served by the coordinator itself);
 *  - per-token rate limiting of the authenticated protocol routes (@fastify/rate-limit);
 *  - an update sent as anything but application/octet-stream is refused 415 before it is parsed.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError } from '../config/config.js';
import { HttpError } from './errors.js';
import { hashToken } from './tokens.js';

export interface TransportOptions {
  readonly maxConnections: number;
  readonly idleTimeoutSeconds: number;
  readonly headersTimeoutSeconds: number;
  readonly requestTimeoutSeconds: number;
  readonly keepAliveTimeoutSeconds: number;
  /** Requests per token (per address for requests without one) per minute on /v1; 0: no limit. */
  readonly rateLimitPerMinute: number;
  readonly corsOrigins: readonly string[];
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

export const TRANSPORT_DEFAULTS: TransportOptions = {
  maxConnections: 2048,
  idleTimeoutSeconds: 30,
  headersTimeoutSeconds: 10,
  requestTimeoutSeconds: 60,
  keepAliveTimeoutSeconds: 10,
  rateLimitPerMinute: 1200,
  corsOrigins: [],
};

/** Options for `Fastify(...)`: timeouts, and the TLS key pair when configured. */
export function serverOptions(t: TransportOptions): Record<string, unknown> {
  const http = {
    headersTimeout: t.headersTimeoutSeconds * 1000,
    requestTimeout: t.requestTimeoutSeconds * 1000,
    // how often node enforces the two timeouts above (its default is 30 s)
    connectionsCheckingInterval: Math.max(250, Math.min(t.headersTimeoutSeconds, t.requestTimeoutSeconds) * 250),
  };
  const base = {
    connectionTimeout: t.idleTimeoutSeconds * 1000,
    keepAliveTimeout: t.keepAliveTimeoutSeconds * 1000,
    requestTimeout: t.requestTimeoutSeconds * 1000,
    http,
  };
  if (t.tlsCert === undefined && t.tlsKey === undefined) return base;
  if (t.tlsCert === undefined || t.tlsKey === undefined) throw new ConfigError('TLS needs both a certificate (--tls-cert) and its key (--tls-key)');
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`cannot read the TLS ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  return { ...base, https: { ...http, cert: read(t.tlsCert, 'certificate'), key: read(t.tlsKey, 'key') } };
}

/**
 * Cap open connections: when a new one makes more than `max`, the oldest connection with no
 * request in flight is closed. Returns a gauge reader (open connections).
 */
export function capConnections(server: Server, max: number, onEvict: () => void): () => number {
  // keyed by the peer's address and port: a TLS request's socket wraps the TCP socket counted here
  const open = new Map<string, { socket: Socket; inFlight: number }>();
  const keyOf = (s: Socket) => `${s.remoteAddress}|${s.remotePort}`;
  server.on('connection', (socket: Socket) => {
    const key = keyOf(socket);
    open.set(key, { socket, inFlight: 0 });
    socket.once('close', () => {
      if (open.get(key)?.socket === socket) open.delete(key);
    });
    if (open.size <= max) return;
    for (const [k, state] of open) {
      if (state.inFlight === 0 && state.socket !== socket) {
        open.delete(k);
        state.socket.destroy();
        onEvict();
        return;
      }
    }
    // every other connection is busy: refuse the new one
    open.delete(key);
    socket.destroy();
    onEvict();
  });
  server.on('request', (req: { socket: Socket }, res: { once(e: string, f: () => void): void }) => {
    const state = open.get(keyOf(req.socket));
    if (!state) return;
    state.inFlight++;
    let done = false;
    const finish = () => {
      if (!done) (done = true), state.inFlight--;
    };
    res.once('finish', finish);
    res.once('close', finish);
  });
  return () => open.size;
}

/** Register headers, CORS and the 415 check on the root instance (before routes). */
export const registerHardening = Object.assign(hardening, { [Symbol.for('skip-override')]: true });

// skip-override (what fastify-plugin sets): the hooks apply to the instance that registers this, not to a child scope
async function hardening(app: FastifyInstance, t: TransportOptions): Promise<void> {
  // The demo page's own CSP (below) is the only one; other responses are JSON or binary.
  await app.register(helmet, { global: true, contentSecurityPolicy: false, crossOriginEmbedderPolicy: false });
  await app.register(cors, { origin: t.corsOrigins.length > 0 ? [...t.corsOrigins] : false, methods: ['GET', 'POST'], allowedHeaders: ['authorization', 'content-type'], strictPreflight: false });
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (request.method === 'GET' && (request.url === '/' || request.url.startsWith('/?'))) {
      // the page loads its bundle from here; the MF client compiles WebAssembly
      reply.header('content-security-policy', "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'");
    }
    if (request.method === 'POST' && request.url.startsWith('/v1/update')) {
      const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/octet-stream') {
        reply.code(415).type('application/json').send({ error: 'unsupported-media-type', message: `expected Content-Type application/octet-stream (a wire update message), got '${type || 'none'}'` });
        return;
      }
    }
    done();
  });
}

/** Per-token rate limit on a scope (the /v1 routes): the key is the token's hash, else the address. */
export async function registerRateLimit(scope: FastifyInstance, t: TransportOptions): Promise<void> {
  if (t.rateLimitPerMinute <= 0) return;
  await scope.register(rateLimit, {
    global: true,
    max: t.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => {
      const header = request.headers.authorization;
      return header?.startsWith('Bearer ') ? `token:${hashToken(header.slice(7).trim())}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) =>
      new HttpError(429, 'rate-limited', `more than ${context.max} requests per minute with this token: retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
}
