/**
 * PersonalisedScorer: user u is scored as if its item table were θ with its personal rows Δ_u added,
 * for the candidates and for the recent items e_u reads; a user without personal rows is scored on θ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../math/rng.js';
import { initParams } from '../params.js';
import type { PersonalRows } from './personal-rows.js';
import { initJointLayer, TextGraphModel, textGraphParamInfo, textInputs, recentItemsOf, type TextGraphConfig } from './model.js';
import { PersonalisedScorer } from './scorer.js';

const config: TextGraphConfig = { textDim: 4, dim: 3, layers: [4], lambda: 0, dot: true, recentItems: 2 };
const nUsers = 2;
const nItems = 7;

test('personalised scoring equals scoring on θ + Δ_u, recent items included; θ alone without personal rows', () => {
  const rng = new Rng(5);
  const params = initParams(textGraphParamInfo(config, nUsers, nItems), 0.5, rng);
  for (const t of Object.values(params.local)) for (let k = 0; k < t.length; k++) t[k] = rng.normal() * 0.5;
  const texts = textInputs(config, Float32Array.from({ length: nUsers * config.textDim }, () => rng.normal()), initJointLayer(config, rng));
  const recent = recentItemsOf([Int32Array.of(1, 5), Int32Array.of(0)]);
  const model = new TextGraphModel(config, nUsers, nItems, params, texts, null, recent);
  const d = config.dim;
  // user 0's personal rows: item 2 (a candidate) and item 5 (a recent item)
  const mine: PersonalRows = { rows: Int32Array.of(2, 5), delta: Float32Array.from({ length: 2 * d }, () => rng.normal()) };
  const scorer = new PersonalisedScorer(model, (u) => (u === 0 ? mine : null));
  const theta = params.global.item;
  const shifted = theta.slice();
  mine.rows.forEach((r, k) => { for (let f = 0; f < d; f++) shifted[r * d + f] += mine.delta[k * d + f]; });
  const reference = new TextGraphModel(config, nUsers, nItems, { global: { ...params.global, item: shifted }, local: params.local }, texts, null, recent);
  const items = Int32Array.of(0, 2, 3, 4, 6);
  const got = new Float32Array(items.length);
  const want = new Float32Array(items.length);
  scorer.scoreItems(0, items, got);
  reference.scoreItems(0, items, want);
  for (let k = 0; k < items.length; k++) assert.ok(Math.abs(got[k] - want[k]) < 1e-5, `user 0, item ${items[k]}: ${got[k]} vs ${want[k]}`);
  // the override is gone afterwards: the model itself still scores user 0 on θ
  const plain = new Float32Array(items.length);
  model.scoreItems(0, items, plain);
  assert.notDeepEqual([...plain], [...got]);
  const onTheta = new TextGraphModel(config, nUsers, nItems, params, texts, null, recent);
  const expected = new Float32Array(items.length);
  onTheta.scoreItems(0, items, expected);
  assert.deepEqual([...plain], [...expected]);
  scorer.scoreItems(1, items, got);
  model.scoreItems(1, items, want);
  assert.deepEqual([...got], [...want]);
});
