import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage } from './codec.js';
import { decodeModel, decodeState, decodeUpdate, encodeModel, encodeState, encodeUpdate } from './messages.js';
import { WireError } from './types.js';
import type { GlobalUpdate } from '../federated/types.js';

const update: GlobalUpdate = {
  round: 3,
  weight: 12,
  loss: 0.5,
  rows: Int32Array.from([2, 5, 9]),
  itemTables: { itemEmb: Float32Array.from([1, 2, 3, 4, 5, 6]), itemBias: Float32Array.from([0.1, -0.2, 0.3]) },
  denseTables: { globalBias: Float32Array.from([-1.5]) },
};

test('update round-trips through the wire format bit for bit', () => {
  const bytes = encodeUpdate(update);
  const back = decodeUpdate(bytes);
  assert.equal(back.round, 3);
  assert.equal(back.weight, 12);
  assert.deepEqual(Array.from(back.rows), [2, 5, 9]);
  assert.deepEqual(back.itemTables.itemEmb, update.itemTables.itemEmb);
  assert.deepEqual(back.itemTables.itemBias, update.itemTables.itemBias);
  assert.deepEqual(back.denseTables.globalBias, update.denseTables.globalBias);
});

test('decoding with views shares the message memory where aligned, and copies where not', () => {
  const bytes = encodeUpdate(update);
  const shared = decodeUpdate(bytes, undefined, true);
  assert.equal(shared.itemTables.itemEmb.buffer, bytes.buffer, 'an aligned section is a view');
  assert.deepEqual(shared.itemTables.itemEmb, update.itemTables.itemEmb);
  const shifted = new Uint8Array(bytes.length + 1).subarray(1);
  shifted.set(bytes);
  const copied = decodeUpdate(shifted, undefined, true);
  assert.notEqual(copied.itemTables.itemEmb.buffer, shifted.buffer, 'a misaligned section is copied');
  assert.deepEqual(copied.itemTables.itemEmb, update.itemTables.itemEmb);
  assert.notEqual(decodeUpdate(bytes).rows.buffer, bytes.buffer, 'copies by default');
});

test('layout: magic, version, little-endian header length, 4-byte aligned little-endian tensors', () => {
  const bytes = encodeUpdate(update);
  assert.deepEqual(Array.from(bytes.subarray(0, 4)), [0x46, 0x52, 0x57, 1]);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const h = view.getUint32(4, true);
  const start = 8 + h + ((4 - (h % 4)) % 4);
  assert.equal(view.getInt32(start, true), 2); // rows[0]
  assert.equal(view.getInt32(start + 8, true), 9); // rows[2]
  assert.equal(view.getFloat32(start + 12, true), 1); // itemEmb[0]
  assert.equal(bytes.length, start + 4 * (3 + 6 + 3 + 1));
});

test('model message round-trips and keeps table order', () => {
  const global = { itemEmb: Float32Array.from([1, 2]), globalBias: Float32Array.from([3]) };
  const back = decodeModel(encodeModel(global, 7, ['itemEmb', 'globalBias']));
  assert.equal(back.version, 7);
  assert.deepEqual(Object.keys(back.global), ['itemEmb', 'globalBias']);
  assert.deepEqual(back.global.globalBias, global.globalBias);
});

test('malformed messages are refused with a message naming the problem', () => {
  const good = encodeUpdate(update);
  const cases: [string, Uint8Array, RegExp][] = [
    ['short', good.subarray(0, 5), /shorter than the 8-byte prefix/],
    ['magic', Uint8Array.from([0x58, ...good.subarray(1)]), /bad magic/],
    ['version', Uint8Array.from([...good.subarray(0, 3), 9, ...good.subarray(4)]), /unsupported wire version 9/],
    ['truncated', good.subarray(0, good.length - 4), /runs past the end/],
    ['trailing', Uint8Array.from([...good, 0, 0, 0, 0]), /trailing bytes/],
  ];
  for (const [name, bytes, pattern] of cases) {
    assert.throws(() => decodeUpdate(bytes), (err: unknown) => err instanceof WireError && pattern.test((err as Error).message), name);
  }
  const badJson = new Uint8Array(12);
  badJson.set([0x46, 0x52, 0x57, 1]);
  new DataView(badJson.buffer).setUint32(4, 4, true);
  badJson.set([0x7b, 0x7b, 0x20, 0x20], 8);
  assert.throws(() => decodeMessage(badJson), /not valid UTF-8 JSON/);
  const wrongSchema = encodeMessage({ kind: 'model', version: 1, sections: [{ name: 'a', dtype: 'f32', length: 1 }] }, [new Float32Array(1)]);
  assert.throws(() => decodeUpdate(wrongSchema), /expected an 'update' message/);
  assert.throws(() => decodeMessage(good, { maxBytes: 10, maxHeaderBytes: 1000 }), /exceeds the limit of 10/);
  const dup = encodeMessage({ kind: 'model', version: 1, sections: [{ name: 'a', dtype: 'f32', length: 1 }, { name: 'a', dtype: 'f32', length: 1 }] }, [new Float32Array(1), new Float32Array(1)]);
  assert.throws(() => decodeMessage(dup), /appears twice/);
});

test('the header schema rejects unknown fields and bad types', () => {
  const json = new TextEncoder().encode(JSON.stringify({ kind: 'update', round: 0, weight: 1, loss: 0, sections: [], extra: 1 }));
  const bytes = new Uint8Array(8 + json.length + ((4 - (json.length % 4)) % 4));
  bytes.set([0x46, 0x52, 0x57, 1]);
  new DataView(bytes.buffer).setUint32(4, json.length, true);
  bytes.set(json, 8);
  assert.throws(() => decodeMessage(bytes), (err: unknown) => /invalid header/.test((err as Error).message) && /round/.test((err as Error).message));
});

test('an optimiser state round-trips bit for bit; an empty one too; it is not an update', () => {
  const state = { step: 7, tables: { 'm/itemEmb': Float32Array.from([0.5, -1e-30, 3]), 'v/itemEmb': Float32Array.from([1, 2, 3]) } };
  const back = decodeState(encodeState(state));
  assert.equal(back.step, 7);
  assert.deepEqual(Object.keys(back.tables), ['m/itemEmb', 'v/itemEmb']);
  assert.deepEqual(back.tables['m/itemEmb'], state.tables['m/itemEmb']);
  assert.deepEqual(back.tables['v/itemEmb'], state.tables['v/itemEmb']);
  assert.deepEqual(decodeState(encodeState({ step: 0, tables: {} })), { step: 0, tables: {} });
  assert.throws(() => decodeUpdate(encodeState(state)), /expected an 'update' message, got 'state'/);
  assert.throws(() => decodeState(encodeUpdate(update)), /expected a 'state' message/);
  assert.throws(() => decodeState(encodeState({ step: 1, tables: { itemEmb: new Float32Array(1) } })), /invalid header: sections\.0\.name/);
});
