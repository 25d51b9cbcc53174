/**
 * `Transport` over HTTP with `fetch` (Node ≥ 20 and browsers): bearer token on every request,
 * binary bodies for tensors, JSON for control; every response is checked against its schema.
 * `server` may list several coordinator replicas (comma-separated URLs sharing one database):
 * the client starts at a random one and moves to the next whenever a request gets no answer or a
 * 5xx (client-side failover); the retry that follows goes to that next replica.
 */
import { decodeModel } from '../wire/messages.js';
import { catalogueSchema, roundInfoSchema, updateAckSchema, type Catalogue, type RoundInfo, type UpdateAck } from '../wire/protocol.js';
import type { GlobalParams } from '../models/types.js';
import { TransportError, type Transport } from './types.js';
import type { ZodType } from 'zod';
import type { SecAggPhase } from '../secagg/types.js';
import { viewSchema, type ViewBody } from '../secagg/wire.js';

export interface HttpTransportOptions {
  /** A coordinator URL, or several replicas' URLs separated by commas. */
  readonly server: string;
  readonly token: string;
  /** Per-request timeout, ms (default 30 s). */
  readonly timeoutMs?: number;
}

export class HttpTransport implements Transport {
  private readonly bases: string[];
  private current: number;
  constructor(private readonly opts: HttpTransportOptions) {
    this.bases = opts.server.split(',').map((s) => s.trim().replace(/\/+$/, '')).filter((s) => s.length > 0);
    if (this.bases.length === 0) throw new TransportError(null, 'usage', 'no coordinator URL given');
    this.current = Math.floor(Math.random() * this.bases.length);
  }

  /** The replica the next request goes to. */
  get server(): string {
    return this.bases[this.current];
  }

  private failOver(): void {
    this.current = (this.current + 1) % this.bases.length;
  }

  async round(): Promise<RoundInfo> {
    return this.json('/v1/round', roundInfoSchema);
  }

  async catalogue(): Promise<Catalogue> {
    return this.json('/v1/catalogue', catalogueSchema);
  }

  async model(): Promise<{ version: number; global: GlobalParams }> {
    const res = await this.request('/v1/model');
    const bytes = new Uint8Array(await res.arrayBuffer());
    try {
      return decodeModel(bytes);
    } catch (err) {
      throw new TransportError(res.status, 'bad-response', `GET /v1/model: ${(err as Error).message}`);
    }
  }

  async submit(update: Uint8Array): Promise<UpdateAck> {
    const res = await this.request('/v1/update', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: update as unknown as BodyInit,
    });
    return this.parse('/v1/update', res, updateAckSchema);
  }

  async secureView(): Promise<ViewBody> {
    return this.json('/v1/secagg', viewSchema);
  }

  async secureSend(phase: SecAggPhase, body: Uint8Array, round: number): Promise<void> {
    const binary = phase === 'masked';
    const path = binary ? `/v1/secagg/masked?round=${round}` : `/v1/secagg/${phase}`;
    const res = await this.request(path, {
      method: 'POST',
      headers: { 'content-type': binary ? 'application/octet-stream' : 'application/json' },
      body: body as unknown as BodyInit,
    });
    await res.arrayBuffer();
  }

  private async json<T>(path: string, schema: ZodType<T>): Promise<T> {
    return this.parse(path, await this.request(path), schema);
  }

  private async parse<T>(path: string, res: Response, schema: ZodType<T>): Promise<T> {
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new TransportError(res.status, 'bad-response', `${path}: response is not JSON`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new TransportError(res.status, 'bad-response', `${path}: unexpected response (${parsed.error.issues[0]?.message ?? 'schema'})`);
    return parsed.data;
  }

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    const base = this.server;
    try {
      res = await fetch(base + path, {
        ...init,
        headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${this.opts.token}` },
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      this.failOver();
      throw new TransportError(null, 'network', `${init.method ?? 'GET'} ${path}: ${cause ?? (err as Error).message}`);
    }
    if (!res.ok) {
      if (res.status >= 500) this.failOver();
      let code = 'http';
      let message = `${res.status} ${res.statusText}`;
      try {
        const body = (await res.json()) as { error?: string; message?: string };
        code = body.error ?? code;
        message = body.message ?? message;
      } catch {
        /* not JSON: keep the status line */
      }
      throw new TransportError(res.status, code, `${init.method ?? 'GET'} ${path}: ${res.status} ${message}`);
    }
    return res;
  }
}
