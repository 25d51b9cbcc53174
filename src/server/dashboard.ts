/**
 * The operator dashboard's routes, all behind the operator token (server/operator.ts):
 *   GET  /dashboard              the page (a browser gets a Basic-auth prompt: any user name, the token as password)
 *   GET  /dashboard/chart.js     Chart.js, from node_modules (no CDN)
 *   GET  /dashboard/app.js       the page script (server/page/dashboard.ts)
 *   GET  /dashboard/state        the JSON the page polls (dashboard-state.ts)
 *   POST /dashboard/evaluation   an evaluation report (evaluations.ts); Bearer only, so a browser
 *                                holding Basic credentials cannot be made to post one (CSRF)
 * Everything here is read-only except the evaluation report; nothing changes training.
 * Responses carry a strict Content-Security-Policy (scripts from this origin only), no caching.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { chartJsSource, pageScriptSource } from '../report/assets.js';
import type { Coordinator } from './coordinator.js';
import { DASHBOARD_PAGE } from './dashboard-page.js';
import { dashboardState } from './dashboard-state.js';
import { HttpError } from './errors.js';
import { Evaluations } from './evaluations.js';
import type { Metrics } from './metrics.js';
import { checkOperator, type OperatorScheme } from './operator.js';
import type { Store } from './types.js';

export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

declare module 'fastify' {
  interface FastifyRequest {
    operatorScheme?: OperatorScheme;
  }
}

export interface DashboardDeps {
  readonly coordinator: Coordinator;
  readonly metrics: Metrics;
  readonly store: Store;
}

const WHY = {
  missing: 'operator token required: send Authorization: Bearer <token>, or open the page and give the token as the password (fedrec token operator)',
  unknown: 'unknown operator token: it was not issued for this coordinator, or a newer one replaced it',
  'none-issued': 'no operator token has been issued for this coordinator: run fedrec token operator --db <its database>',
} as const;

export function registerDashboard(app: FastifyInstance, deps: DashboardDeps): void {
  const evaluations = new Evaluations(deps.store);
  app.register(
    async (d) => {
      // an early reply ends the request (async hook: returning the reply stops the chain)
      d.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        const check = await checkOperator(deps.store, request.headers.authorization);
        if (!check.ok) {
          return reply.code(401).header('www-authenticate', 'Basic realm="fedrec operator", charset="UTF-8"').header('cache-control', 'no-store').type('application/json').send({ error: 'unauthorized', message: WHY[check.why] });
        }
        request.operatorScheme = check.scheme;
      });
      d.addHook('onSend', (_request, reply, payload, done) => {
        reply.header('content-security-policy', DASHBOARD_CSP);
        reply.header('cache-control', 'no-store');
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'no-referrer');
        reply.header('x-frame-options', 'DENY');
        done(null, payload);
      });

      d.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_PAGE));
      d.get('/chart.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(chartJsSource()));
      d.get('/app.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(pageScriptSource('server/page/dashboard.js')));
      d.get('/state', async () => dashboardState({ ...deps, evaluations }));
      d.post('/evaluation', async (request) => {
        if (request.operatorScheme !== 'bearer') {
          throw new HttpError(401, 'unauthorized', 'evaluation reports need Authorization: Bearer <operator token> (Basic credentials a browser holds are for reading only)');
        }
        const entry = await evaluations.report(request.body, deps.coordinator.status().completedRounds);
        request.log.info({ round: entry.round, metrics: entry.metrics }, 'operator evaluation reported');
        return { accepted: true, round: entry.round };
      });
    },
    { prefix: '/dashboard' },
  );
}
