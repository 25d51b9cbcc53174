import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdBytesCopyParser } from './pg-copy-rows.js';

/** A binary COPY stream of (int4, bytea) rows, as PostgreSQL writes it. */
function encode(rows: { id: number; bytes: Uint8Array }[], extension = 0): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(4), Buffer.alloc(4 + extension)];
  parts[2].writeInt32BE(extension, 0);
  for (const r of rows) {
    const head = Buffer.alloc(14);
    head.writeInt16BE(2, 0);
    head.writeInt32BE(4, 2);
    head.writeInt32BE(r.id, 6);
    head.writeInt32BE(r.bytes.length, 10);
    parts.push(head, Buffer.from(r.bytes));
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1, 0);
  parts.push(trailer);
  return Buffer.concat(parts);
}

test('binary COPY rows parse the same whatever the chunk boundaries', () => {
  const rows = [0, 1, 7, 300].map((id, k) => ({ id, bytes: Uint8Array.from({ length: k * 37 }, (_, i) => (i * 31 + id) & 255) }));
  const stream = encode(rows, 3);
  for (const size of [1, 2, 5, 13, 64, stream.length]) {
    const parser = new IdBytesCopyParser();
    for (let o = 0; o < stream.length; o += size) parser.push(stream.subarray(o, o + size));
    assert.deepEqual(parser.finish().map((r) => ({ id: r.id, bytes: [...r.bytes] })), rows.map((r) => ({ id: r.id, bytes: [...r.bytes] })), `chunk size ${size}`);
  }
});

test('a truncated or foreign binary COPY stream is refused', () => {
  const stream = encode([{ id: 1, bytes: new Uint8Array(10) }]);
  const cut = new IdBytesCopyParser();
  cut.push(stream.subarray(0, stream.length - 3));
  assert.throws(() => cut.finish(), /ended early/);
  assert.throws(() => new IdBytesCopyParser().push(Buffer.alloc(30)), /bad signature/);
});
