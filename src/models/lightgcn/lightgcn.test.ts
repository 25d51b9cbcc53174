/**
 * LightGCN pieces: propagation backward (with NCL's terms on layer 2 and layer 0) against finite
 * differences of the whole batch loss, and a short training run that beats popularity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../math/rng.js';
import { bprLoss, type BprBatch } from './bpr.js';
import { LightGcn } from './model.js';
import { NclLoss } from '../ncl/loss.js';
import { kmeans } from '../../cluster/kmeans.js';

// 3 users, 4 items; user 2 ↔ items {2, 3}, user 0 ↔ {0, 1}, user 1 ↔ {1, 2}
const rows = { indptr: Int32Array.from([0, 2, 4, 6]), indices: Int32Array.from([0, 1, 1, 2, 2, 3]) };
const nUsers = 3;
const nItems = 4;
const dim = 3;
const batch: BprBatch = {
  users: Int32Array.from([0, 1, 2, 0]),
  positives: Int32Array.from([3, 4, 6, 4]), // item nodes = nUsers + item
  negatives: Int32Array.from([5, 6, 3, 6]),
  start: 0,
  end: 4,
};

function batchLoss(model: LightGcn, ncl: NclLoss | null, itemScoring: 'final' | 'layer0', gE0: Float32Array | null): number {
  const prop = model.propagation;
  model.forward();
  prop.zeroGrads();
  const gFinal = new Float32Array(model.e0.length);
  const final = { values: prop.final, grad: gFinal };
  const layer0 = { values: prop.layers[0], grad: prop.layerGrads[0] };
  let loss = bprLoss(batch, dim, final, itemScoring === 'final' ? final : layer0, layer0, 0.1);
  if (ncl) loss += ncl.addBatch(batch, prop);
  if (gE0) prop.backward(gFinal, gE0);
  return loss;
}

for (const variant of ['lightgcn', 'ncl', 'ego'] as const) {
  test(`∂loss/∂E(0) through ${variant === 'ego' ? 'layer-0 item scoring' : variant} propagation matches finite differences`, () => {
    const rng = new Rng(5);
    const e0 = Float32Array.from({ length: (nUsers + nItems) * dim }, () => rng.normal() * 0.5);
    const model = new LightGcn({ nUsers, nItems, dim, layers: 2 }, rows, { e0 });
    let ncl: NclLoss | null = null;
    if (variant === 'ncl') {
      ncl = new NclLoss(nUsers, nItems, dim, { hyperLayers: 1, sslTemp: 0.5, sslReg: 0.3, alpha: 0.7, protoReg: 0.2, userSide: true });
      ncl.userPrototypes = kmeans(model.userEmb, dim, { k: 2, seed: 1, normalizeCentroids: true });
      ncl.itemPrototypes = kmeans(model.itemEmb, dim, { k: 2, seed: 2, normalizeCentroids: true });
    }
    const scoring = variant === 'ego' ? 'layer0' : 'final';
    const g = new Float32Array(e0.length);
    batchLoss(model, ncl, scoring, g);
    const h = 1e-2;
    for (let k = 0; k < e0.length; k++) {
      const keep = e0[k];
      e0[k] = keep + h;
      const plus = batchLoss(model, ncl, scoring, null);
      e0[k] = keep - h;
      const minus = batchLoss(model, ncl, scoring, null);
      e0[k] = keep;
      const numeric = (plus - minus) / (2 * h);
      assert.ok(Math.abs(numeric - g[k]) < 2e-3 + 2e-2 * Math.abs(g[k]), `E0[${k}]: numeric ${numeric} vs analytic ${g[k]}`);
    }
  });
}

test('propagation: final = mean of E(0..L), E(1) = Â·E(0)', () => {
  const e0 = Float32Array.from({ length: (nUsers + nItems) * dim }, (_, k) => (k % 5) - 2);
  const model = new LightGcn({ nUsers, nItems, dim, layers: 1 }, rows, { e0 });
  model.forward();
  const { layers, final } = model.propagation;
  // user 0 has items 0, 1; deg(u0) = 2, deg(i0) = 1, deg(i1) = 2
  for (let f = 0; f < dim; f++) {
    const expected = e0[(nUsers + 0) * dim + f] / Math.sqrt(2 * 1) + e0[(nUsers + 1) * dim + f] / Math.sqrt(2 * 2);
    assert.ok(Math.abs(layers[1][f] - expected) < 1e-5);
    assert.ok(Math.abs(final[f] - (e0[f] + expected) / 2) < 1e-5);
  }
});
