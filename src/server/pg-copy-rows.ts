/**
 * Read (int4, bytea) rows with PostgreSQL's binary COPY format (`COPY (query) TO STDOUT (FORMAT
 * binary)`, streamed by `pg-copy-streams`). node-postgres returns `bytea` results as hex text (twice
 * the bytes, encoded by the server, decoded by the client; its binary result mode is not supported
 * for bytea), which made the round close of the PostgreSQL store its most expensive step; binary
 * COPY hands over the raw bytes. Format: PostgreSQL docs, "COPY — Binary Format".
 */
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

export interface IdBytesRow {
  readonly id: number;
  readonly bytes: Uint8Array;
}

/**
 * Parses the binary COPY stream of two-column rows (int4 NOT NULL, bytea NOT NULL) chunk by chunk:
 * each row's bytes are copied out once, so memory is the rows plus at most one partial row.
 */
export class IdBytesCopyParser {
  private pending: Buffer = Buffer.alloc(0);
  private headerDone = false;
  private ended = false;
  readonly rows: IdBytesRow[] = [];

  push(chunk: Buffer): void {
    if (this.ended) throw new Error('binary COPY: data after the trailer');
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let o = 0;
    if (!this.headerDone) {
      if (buf.length < 19) {
        this.pending = Buffer.from(buf);
        return;
      }
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new Error('binary COPY: bad signature');
      const extension = buf.readInt32BE(15);
      if (buf.length < 19 + extension) {
        this.pending = Buffer.from(buf);
        return;
      }
      o = 19 + extension;
      this.headerDone = true;
    }
    for (;;) {
      if (buf.length - o < 2) break;
      const fields = buf.readInt16BE(o);
      if (fields === -1) {
        this.ended = true;
        o += 2;
        break;
      }
      if (fields !== 2) throw new Error(`binary COPY: expected 2 fields per row, got ${fields}`);
      if (buf.length - o < 2 + 4 + 4 + 4) break;
      if (buf.readInt32BE(o + 2) !== 4) throw new Error('binary COPY: the first field is not an int4');
      const id = buf.readInt32BE(o + 6);
      const len = buf.readInt32BE(o + 10);
      if (len < 0) throw new Error('binary COPY: unexpected NULL');
      if (buf.length - o < 14 + len) break;
      this.rows.push({ id, bytes: new Uint8Array(buf.subarray(o + 14, o + 14 + len)) }); // a copy: chunks are not ours to keep
      o += 14 + len;
    }
    this.pending = o === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(o));
  }

  finish(): IdBytesRow[] {
    if (!this.ended || this.pending.length > 0) throw new Error('binary COPY: the stream ended early');
    return this.rows;
  }
}

/** Run `select` (a query returning int4, bytea) through binary COPY on connection `c` (inside its transaction, if any). */
export async function copyIdBytesRows(c: pg.PoolClient, select: string): Promise<IdBytesRow[]> {
  const parser = new IdBytesCopyParser();
  const stream = c.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`));
  let bad: Error | null = null;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      if (bad) return; // read to the end all the same: the connection stays in step with the server
      try {
        parser.push(chunk);
      } catch (err) {
        bad = err as Error;
      }
    });
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  if (bad) throw bad;
  return parser.finish();
}
