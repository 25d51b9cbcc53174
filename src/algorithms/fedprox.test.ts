/**
 * FedProx (algorithms/fedprox.ts): μ = 0 is FedAvg bit for bit; the proximal term's gradient
 * matches finite differences; μ > 0 pulls local training toward the received model; the same run
 * on 1 and 2 worker threads; user-level DP (privacy/dp-fedavg.ts) wraps its server as FedAvg's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic } from '../data/synthetic.js';
import { clientNegativeSource, runClientRound } from '../federated/client-work.js';
import { RowSparseGrads } from '../models/params.js';
import { createModel } from '../models/registry.js';
import type { GlobalUpdate } from '../federated/types.js';
import { parseTrainConfig } from '../config/config.js';
import { runTraining, splitDataset } from '../recipes/experiment.js';
import { partitionClients } from '../federated/partition.js';
import { initGlobal } from '../simulation/simulation.js';
import { proximalTerm } from './fedprox.js';
import { findAlgorithm } from './registry.js';

const SMALL = { syntheticUsers: 60, syntheticItems: 300, syntheticInteractions: 3000, rounds: 4, evalEvery: 2, seed: 3, dim: 8 };

function sameParams(a: Record<string, Float32Array>, b: Record<string, Float32Array>): boolean {
  return Object.keys(a).length === Object.keys(b).length &&
    Object.entries(a).every(([name, x]) => b[name] && x.length === b[name].length && x.every((v, k) => Object.is(v, b[name][k])));
}

function updateNormSq(u: GlobalUpdate): number {
  let s = 0;
  for (const t of [...Object.values(u.itemTables), ...Object.values(u.denseTables)]) for (const v of t) s += v * v;
  return s;
}

test('FedProx is a registered algorithm: flag, option default, plan field', () => {
  const fedprox = findAlgorithm('fedprox');
  assert.ok(fedprox);
  assert.equal(fedprox.flags['prox-mu'].key, 'proxMu');
  const c = parseTrainConfig({ algorithm: 'fedprox' });
  assert.equal(c.proxMu, 0.001);
  assert.deepEqual(fedprox.plan(c), { fedprox: { mu: 0.001 } });
  // FedAvg's tuned federated defaults apply (FedProx with μ = 0 must be FedAvg).
  const avg = parseTrainConfig({});
  for (const key of ['lr', 'l2', 'rounds', 'serverOptimizer', 'serverLr', 'optimizer', 'recencyWindow'] as const) assert.equal(c[key], avg[key], key);
  assert.throws(() => parseTrainConfig({ algorithm: 'fedprox', model: 'lightgcn' }), /model/);
});

test('μ = 0: FedProx equals FedAvg bit for bit (same seed: identical parameters, history and metrics)', async () => {
  const avg = await runTraining(parseTrainConfig({ ...SMALL }));
  const prox = await runTraining(parseTrainConfig({ ...SMALL, algorithm: 'fedprox', proxMu: 0 }));
  assert.ok(sameParams(prox.model.params.global, avg.model.params.global), 'global tables');
  assert.ok(sameParams(prox.model.params.local, avg.model.params.local), 'user tables');
  assert.deepEqual(prox.result.history.map((h) => [h.loss, h.validation]), avg.result.history.map((h) => [h.loss, h.validation]));
  assert.deepEqual(prox.result.metrics, avg.result.metrics);
  const withMu = await runTraining(parseTrainConfig({ ...SMALL, algorithm: 'fedprox', proxMu: 0.5 }));
  assert.ok(!sameParams(withMu.model.params.global, avg.model.params.global), 'μ > 0 changes the model');
});

test('the proximal term at μ = 0 adds exactly nothing; μ > 0 shrinks the client update', () => {
  const split = splitDataset(generateSynthetic({ users: 30, items: 600, interactions: 1800, seed: 5 }), 'loo', 5);
  const clients = partitionClients(split, 2, 5);
  const config = { kind: 'mf' as const, dim: 8, initStd: 0.1 };
  const global = initGlobal(config, split.nItems, 5);
  const plan = { round: 1, model: config, loss: 'bce' as const, localEpochs: 3, batch: 8, negatives: 4, optimizer: { kind: 'sgd' as const, lr: 1 }, seed: 11 };
  for (const client of clients.slice(0, 4)) {
    const sampler = () => clientNegativeSource(split.nItems, client);
    const plain = runClientRound(plan, global, client, null, sampler(), { simd: false });
    const zero = runClientRound(plan, global, client, null, sampler(), { simd: false, localTerm: proximalTerm(0) });
    assert.ok(sameParams(zero.update.itemTables, plain.update.itemTables) && sameParams(zero.update.denseTables, plain.update.denseTables));
    assert.ok(sameParams(zero.state.local, plain.state.local));
    const strong = runClientRound(plan, global, client, null, sampler(), { simd: false, localTerm: proximalTerm(0.5) }); // μ·lr < 1: a contraction toward w^r
    assert.deepEqual(strong.update.rows, plain.update.rows);
    assert.ok(updateNormSq(strong.update) < updateNormSq(plain.update), 'the proximal term keeps the client nearer the model it received');
  }
});

test('the proximal term gradient matches finite differences (MF and NeuMF global tables)', () => {
  for (const config of [{ kind: 'mf' as const, dim: 4, initStd: 0.5 }, { kind: 'neumf' as const, dim: 3, mlpDim: 4, layers: [6, 3], initStd: 0.5 }]) {
    const model = createModel(config, 2, 6, { seed: 9 });
    const mu = 0.7;
    const hook = proximalTerm(mu)(model); // anchors w^r at the current values
    // move the model away from the anchor, as local training does
    for (const t of Object.values(model.params.global)) for (let k = 0; k < t.length; k++) t[k] += 0.3 * Math.sin(3 * k + t.length);
    const touched = [1, 4];
    const run = (): { loss: number; grads: RowSparseGrads } => {
      const grads = new RowSparseGrads(model.info);
      for (const i of touched) grads.touchItem(i);
      return { loss: hook(grads), grads };
    };
    const { grads } = run();
    const eps = 1e-3;
    let checked = 0;
    for (const p of model.info.filter((q) => q.scope === 'global')) {
      const theta = model.params.global[p.name];
      for (let k = 0; k < theta.length; k++) {
        const orig = theta[k];
        theta[k] = orig + eps;
        const up = run().loss;
        theta[k] = orig - eps;
        const down = run().loss;
        theta[k] = orig;
        const numeric = (up - down) / (2 * eps);
        const analytic = grads.values[p.name][k];
        assert.ok(Math.abs(numeric - analytic) <= 1e-3 + 1e-2 * Math.abs(numeric), `${config.kind} ${p.name}[${k}]: analytic ${analytic} vs numeric ${numeric}`);
        if (numeric !== 0) checked++;
        // rows the minibatch did not touch get no term (lazy, as weight decay)
        if (p.index === 'item' && !touched.includes(Math.floor(k / p.cols))) assert.equal(analytic, 0);
      }
    }
    assert.ok(checked > 10, `${checked} non-zero gradients checked`);
  }
});

test('FedProx on 1 and 2 worker threads gives the same model', async () => {
  const one = await runTraining(parseTrainConfig({ ...SMALL, algorithm: 'fedprox', proxMu: 0.1, usersPerClient: 3 }));
  const two = await runTraining(parseTrainConfig({ ...SMALL, algorithm: 'fedprox', proxMu: 0.1, usersPerClient: 3, workers: 2 }));
  assert.ok(sameParams(two.model.params.global, one.model.params.global));
  assert.deepEqual(two.result.metrics, one.result.metrics);
});

test('user-level DP wraps FedProx: central and distributed noise, a finite ε, and clipping bounds each client', async () => {
  for (const dpMode of ['central', 'distributed'] as const) {
    const run = await runTraining(parseTrainConfig({ ...SMALL, algorithm: 'fedprox', proxMu: 0.1, dpClip: 0.5, dpNoiseMultiplier: 1, fraction: 0.5, dpMode }));
    assert.ok(run.result.privacy, `${dpMode}: a privacy report`);
    const epsilon = run.result.privacy.epsilon as number;
    assert.ok(Number.isFinite(epsilon) && epsilon > 0, `${dpMode}: ε ${epsilon}`);
    assert.ok(Number.isFinite(run.result.metrics.test.sampled?.['HR@10'] as number));
  }
  // Without noise, a huge clip changes nothing and a tiny one moves the model less: the DP sum clips FedProx updates.
  const base = { ...SMALL, algorithm: 'fedprox', proxMu: 0.1, dpNoiseMultiplier: 0, fraction: 1 };
  const init = initGlobal({ kind: 'mf', dim: 8 }, 300, SMALL.seed);
  const moved = async (dpClip: number) => {
    const r = await runTraining(parseTrainConfig({ ...base, dpClip }));
    let s = 0;
    for (const [name, t] of Object.entries(r.model.params.global)) for (let k = 0; k < t.length; k++) s += (t[k] - init[name][k]) ** 2;
    return Math.sqrt(s);
  };
  assert.ok(await moved(1e-3) < await moved(1e3));
});
