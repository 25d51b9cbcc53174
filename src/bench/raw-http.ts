/**
 * A minimal HTTP/1.1 client for load generation: one keep-alive TCP connection, one request at a
 * time, each request pre-encoded bytes (its head built once, the body written as given, no copy)
 * and each response read by its Content-Length (fastify always sends one). It costs a fraction of
 * node:http or fetch per request, so on a small machine the load generator leaves the CPU to the
 * server it measures.
 */
import net from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly body: Buffer;
}

/** The head of a request (request line and headers), to build once and send many times. */
export function requestHead(method: string, host: string, path: string, headers: Readonly<Record<string, string>>): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

export class RawHttpConnection {
  private received: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: RawResponse) => void; reject: (e: Error) => void } | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
      this.deliver();
    });
    const fail = (err: Error) => {
      this.waiting?.reject(err);
      this.waiting = null;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by the server')));
  }

  static open(host: string, port: number): Promise<RawHttpConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => {
        socket.off('error', reject);
        resolve(new RawHttpConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Send `head` (from requestHead; with a body it must carry its content-length) and `body`. */
  request(head: Buffer, body?: Uint8Array): Promise<RawResponse> {
    if (this.waiting) throw new Error('one request at a time on a RawHttpConnection');
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.cork();
      this.socket.write(head);
      if (body) this.socket.write(body);
      this.socket.uncork();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private deliver(): void {
    const headEnd = this.received.indexOf('\r\n\r\n');
    if (headEnd < 0 || !this.waiting) return;
    const head = this.received.toString('latin1', 0, headEnd);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    const end = headEnd + 4 + length;
    if (this.received.length < end) return;
    const status = Number(head.slice(9, 12));
    const body = this.received.subarray(headEnd + 4, end);
    this.received = this.received.subarray(end);
    const { resolve } = this.waiting;
    this.waiting = null;
    resolve({ status, body });
  }
}
