/**
 * The device side of deployed graph aggregation (graph-device.ts): per-user uploads survive the wire
 * (wire/messages.ts `users.*` sections) and so do personal rows (GET /v1/personal's message); a
 * device without a text description, or a tab asked for an encoder it cannot run, refuses in one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeUpdate, encodeUpdate } from '../wire/messages.js';
import { isGraphUpdate, type GraphUpdate } from '../federated/personal-types.js';
import { decodePersonal, deviceTextInputs, encodePersonal, type TextGraphPlanField } from './graph-device.js';

const field = (kind: 'use' | 'hash'): TextGraphPlanField => ({
  model: { textDim: kind === 'hash' ? 256 : 512, dim: 4, layers: [4], lambda: 1, dot: true, recentItems: 0 },
  optimizer: { kind: 'sgd', lr: 0.1 }, dpLaplace: 0, encoder: { kind, seed: 1 }, initSeed: 1,
});

test('a graph update keeps every user upload bit for bit through the wire', () => {
  const update: GraphUpdate = {
    round: 3, weight: 12, loss: 0.5, rows: new Int32Array(0), itemTables: { item: new Float32Array(0) }, denseTables: { 'out.b': Float32Array.of(0.25) },
    users: [
      { user: 0, weightVector: Float32Array.from({ length: 6 }, (_, k) => k / 7), rows: Int32Array.of(2, 5), itemRows: Float32Array.from({ length: 4 }, (_, k) => -k / 3), weight: 7 },
      { user: 1, weightVector: Float32Array.from({ length: 6 }, (_, k) => Math.PI * k), rows: new Int32Array(0), itemRows: new Float32Array(0), weight: 0 },
    ],
  };
  const back = decodeUpdate(encodeUpdate(update));
  assert.ok(isGraphUpdate(back));
  assert.deepEqual(back.users.map((u) => [u.user, [...u.rows], [...u.itemRows], [...u.weightVector], u.weight]), update.users.map((u) => [u.user, [...u.rows], [...u.itemRows], [...u.weightVector], u.weight]));
  assert.deepEqual([...back.denseTables['out.b']], [0.25]);
  assert.ok(!isGraphUpdate(decodeUpdate(encodeUpdate({ ...update, users: undefined } as never))), 'a plain update stays plain');
});

test('personal rows keep their ids and values through their message; users without rows are absent', () => {
  const bytes = encodePersonal(4, [{ rows: Int32Array.of(1, 9), delta: Float32Array.of(0.1, 0.2, 0.3, 0.4) }, null, { rows: Int32Array.of(3), delta: Float32Array.of(-1, 1) }]);
  const back = decodePersonal(bytes, 2);
  assert.deepEqual([...back.keys()], [0, 2]);
  assert.deepEqual([...back.get(0)!.rows], [1, 9]);
  assert.deepEqual([...back.get(0)!.delta], [...Float32Array.of(0.1, 0.2, 0.3, 0.4)]);
  assert.deepEqual([...back.get(2)!.delta], [-1, 1]);
  assert.throws(() => decodePersonal(bytes, 3), /values for 3 rows of width 3/);
});

test('a device refuses in one line: no text description; an encoder it cannot run (the browser default knows hash only)', async () => {
  await assert.rejects(deviceTextInputs(field('hash'), [undefined]), /user 0 of this device has no text description/);
  await assert.rejects(deviceTextInputs(field('use'), ['A 24-year-old male technician.']), /text encoder 'use' cannot run on this device \(a browser tab runs the hashing encoder only\)/);
  const inputs = await deviceTextInputs(field('hash'), ['A 24-year-old male technician.', 'A 60-year-old female writer.']);
  assert.equal(inputs.vectors.length, 2 * 256);
  assert.equal(inputs.base.length, 2 * 4);
});
