/**
 * What federated NCL trains on a device (docs/graph.md, "Federated variant"): LightGCN's BPR + L2
 * plus the item ProtoNCE against the server's prototypes, nothing else. Checked on one client:
 * the NCL update minus LightGCN's (same seed, one SGD step) is −lr · ∂(proto_reg · ProtoNCE)/∂e⁰,
 * the gradient taken by finite differences in double precision; without prototypes (warm-up) or
 * with proto_reg 0 the NCL update is LightGCN's bit for bit, whatever the structural weight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic } from '../data/synthetic.js';
import { splitDataset } from '../recipes/experiment.js';
import { partitionClients } from './partition.js';
import { clientNegativeSource } from './client-work.js';
import { runGraphClientRound, type GraphRoundPlan } from './graph-client.js';
import { computePrototypes, type Prototypes } from '../models/ncl/prototypes.js';
import { fillNormal } from '../math/kernels.js';
import { Rng } from '../math/rng.js';

const dim = 8;
const tau = 0.2;
const ds = generateSynthetic({ users: 20, items: 120, interactions: 600, seed: 4 });
const split = splitDataset(ds, 'ratio:0.8,0.1,0.1', 4);
const client = partitionClients(split, 1, 4)[5];
const itemEmb = fillNormal(new Float32Array(split.nItems * dim), 0.1, new Rng(7));
const prototypes = computePrototypes(itemEmb, dim, { clusters: 6, iterations: 4, seed: 3 });
const lr = 1;
const base = { round: 6, seed: 11, dim, layers: 2, reg: 1e-3, localEpochs: 1, batch: 4096, optimizer: { kind: 'sgd' as const, lr } };
const loss = { hyperLayers: 1, sslTemp: tau, sslReg: 0.5, alpha: 1, protoReg: 0, clusters: 6, kmeansIterations: 4, warmUp: 5 };

function delta(plan: GraphRoundPlan): { rows: Int32Array; values: Float32Array } {
  const { update } = runGraphClientRound(plan, itemEmb, client, null, clientNegativeSource(split.nItems, client));
  return { rows: update.rows, values: update.itemTables.itemEmb };
}

/** proto_reg · Σ_i −log softmax_j(ê_i·c_j / τ)[cluster(i)] over the given item rows, in double. */
function protoNce(rows: Float64Array, items: Int32Array, protos: Prototypes, weight: number): number {
  const k = protos.centroids.length / dim;
  let total = 0;
  items.forEach((item, r) => {
    let norm = 0;
    for (let f = 0; f < dim; f++) norm += rows[r * dim + f] ** 2;
    norm = Math.sqrt(norm);
    const logits = Array.from({ length: k }, (_, j) => {
      let s = 0;
      for (let f = 0; f < dim; f++) s += (rows[r * dim + f] / norm) * protos.centroids[j * dim + f];
      return s / tau;
    });
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((s, x) => s + Math.exp(x - max), 0));
    total += weight * (lse - logits[protos.assignment[item]]);
  });
  return total;
}

test('federated NCL = LightGCN + the item ProtoNCE gradient (finite differences), one SGD step', () => {
  const protoReg = 0.05;
  const lgcn = delta({ ...base, ncl: null });
  const ncl = delta({ ...base, ncl: { loss: { ...loss, protoReg }, itemPrototypes: prototypes } });
  assert.deepEqual(ncl.rows, lgcn.rows, 'the same seed samples the same negatives');
  const positives = new Set(client.positives[0]);
  assert.ok(client.positives[0].length * 1 <= base.batch, 'one minibatch: one step');
  const rows = ncl.rows;
  const x = new Float64Array(rows.length * dim);
  rows.forEach((item, r) => { for (let f = 0; f < dim; f++) x[r * dim + f] = itemEmb[item * dim + f]; });
  const h = 1e-6;
  let biggest = 0;
  for (let r = 0; r < rows.length; r++) {
    for (let f = 0; f < dim; f++) {
      // only positives are anchors of the item ProtoNCE (negatives are not in it)
      let g = 0;
      if (positives.has(rows[r])) {
        const at = r * dim + f;
        const keep = x[at];
        x[at] = keep + h;
        const up = protoNce(x, rows, prototypes, protoReg) ;
        x[at] = keep - h;
        const down = protoNce(x, rows, prototypes, protoReg);
        x[at] = keep;
        g = (up - down) / (2 * h);
      }
      const diff = ncl.values[r * dim + f] - lgcn.values[r * dim + f];
      biggest = Math.max(biggest, Math.abs(g));
      assert.ok(Math.abs(diff - -lr * g) <= 2e-5 + 1e-3 * Math.abs(g), `row ${rows[r]} (${positives.has(rows[r]) ? 'positive' : 'negative'}) f ${f}: Δ_ncl − Δ_lightgcn ${diff} vs −lr·∂proto ${-lr * g}`);
    }
  }
  assert.ok(biggest > 1e-2, `the prototype term moves the update (largest gradient ${biggest})`);
});

test('federated NCL has no structural term: without prototypes or with proto_reg 0 it is LightGCN bit for bit', () => {
  const lgcn = delta({ ...base, ncl: null });
  const warmUp = delta({ ...base, ncl: { loss: { ...loss, protoReg: 0.05 }, itemPrototypes: null } });
  const noProto = delta({ ...base, ncl: { loss: { ...loss, protoReg: 0 }, itemPrototypes: prototypes } });
  assert.deepEqual(warmUp.values, lgcn.values);
  assert.deepEqual(noProto.values, lgcn.values);
});
