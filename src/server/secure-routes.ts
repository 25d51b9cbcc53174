/**
 * The secure-aggregation routes of the coordinator's `/v1` API (secagg/wire.ts has the bodies),
 * registered inside the authenticated `/v1` scope of app.ts:
 *   GET  /v1/secagg                   → what this client must do next in the open secure round
 *   POST /v1/secagg/keys|shares|unmask  (JSON)
 *   POST /v1/secagg/masked?round=r      (application/octet-stream: the masked vector)
 */
import type { FastifyInstance } from 'fastify';
import type { Coordinator } from './coordinator.js';
import { HttpError } from './errors.js';
import type { ClientRecord } from './types.js';

export function registerSecureRoutes(v1: FastifyInstance, coordinator: Coordinator): void {
  if (!coordinator.status().secure) return;
  const maskedLimit = coordinator.secureVectorBytes() + 1024;
  v1.get('/secagg', async (request) => coordinator.secureView(request.client as ClientRecord));
  for (const phase of ['keys', 'shares', 'unmask'] as const) {
    v1.post(`/secagg/${phase}`, { bodyLimit: 4 << 20 }, async (request) => {
      const text = JSON.stringify(request.body ?? null);
      return coordinator.secureSubmit(request.client as ClientRecord, phase, new TextEncoder().encode(text), null);
    });
  }
  v1.post('/secagg/masked', { bodyLimit: maskedLimit }, async (request) => {
    const body = request.body;
    if (!Buffer.isBuffer(body)) throw new HttpError(415, 'unsupported-media-type', 'expected Content-Type application/octet-stream (the masked vector)');
    const round = Number((request.query as Record<string, string | undefined>).round);
    if (!Number.isInteger(round) || round < 1) throw new HttpError(400, 'malformed', 'POST /v1/secagg/masked needs ?round=<the open round>');
    return coordinator.secureSubmit(request.client as ClientRecord, 'masked', new Uint8Array(body.buffer, body.byteOffset, body.byteLength), round);
  });
}
