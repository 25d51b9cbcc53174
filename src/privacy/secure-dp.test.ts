/**
 * Distributed DP composed with secure aggregation (privacy/secure-dp.ts, docs/privacy.md), in the
 * simulation and in the real protocol run in process (secagg/local-round.ts):
 *  - the fixed-point sum of privatized updates equals the float sum within the stated bound, and
 *    the encoding never clips a noised value (noise ≤ 8.6σ, range C + 9σ);
 *  - a secure + distributed-DP run equals the plain distributed-DP run within the fixed-point bound
 *    (same seeded noise), HR@10 within noise, and reports ε charged at z·√τ;
 *  - the coordinator's view, the masked vectors, gives the item-guessing attack chance AUC;
 *  - a round whose survivors fall below the DP floor aborts before unmasking; a DpAggregator given
 *    fewer contributions than the floor releases nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FedAvg } from '../federated/fedavg.js';
import { clientNegativeSource, runClientRound } from '../federated/client-work.js';
import type { RoundPlan } from '../federated/types.js';
import { modelParamInfo } from '../models/registry.js';
import { partitionClients } from '../federated/partition.js';
import { clientOptimizerOf, effectiveBatch, parseTrainConfig, recencyOf } from '../config/config.js';
import { loadConfiguredDataset, modelConfigOf, runTraining, splitDataset } from '../recipes/experiment.js';
import { runFedReconTraining } from '../recipes/fedrecon-experiment.js';
import { hashRoundSeed, initGlobal } from '../simulation/simulation.js';
import { decodeSum, encodeUpdate, tableSlots, valueScale, vectorLength, addInto, type Encoding } from '../secagg/fixed-point.js';
import { runLocalRound } from '../secagg/local-round.js';
import { DEFAULT_CLIP } from '../secagg/settings.js';
import { auc, maskedScores } from '../bench/privacy.js';
import { accountedNoiseMultiplier, DpAggregator, privatizedValueBound, privatizeOnDevice, type DpClientPlan } from './dp-fedavg.js';
import { gaussianFor, SecureGaussian } from './noise.js';
import { epsilonOf } from './rdp-accountant.js';

const TRAINING = {
  syntheticUsers: 60, syntheticItems: 300, syntheticInteractions: 1800, usersPerClient: 1, dim: 8,
  rounds: 4, localEpochs: 1, seed: 5, eval: ['sampled'], k: [10], evalEvery: 1000,
  dpClip: 0.5, dpNoiseMultiplier: 0.7, dpMode: 'distributed', dpDelta: 1e-3, fraction: 0.8, dpNoise: 'seeded',
};

/** One round of privatized updates of the synthetic clients (what devices hand to secure aggregation). */
async function privatizedRound(clientCount: number, dp: DpClientPlan) {
  const c = parseTrainConfig({ ...TRAINING, mode: 'federated' });
  const ds = await loadConfiguredDataset(c);
  const split = splitDataset(ds, c.split, c.seed);
  const config = modelConfigOf(c);
  const clients = partitionClients(split, 1, c.seed).slice(0, clientCount);
  const info = modelParamInfo(config, 0, split.nItems).filter((p) => p.scope === 'global');
  const global = initGlobal(config, split.nItems, c.seed);
  const plan: RoundPlan = { round: 1, model: config, loss: c.loss, localEpochs: c.localEpochs, batch: effectiveBatch(c), negatives: c.negatives, optimizer: clientOptimizerOf(c), recency: recencyOf(c), seed: hashRoundSeed(c.seed, 1) };
  const raw = clients.map((cl) => runClientRound(plan, global, cl, null, clientNegativeSource(split.nItems, cl)).update);
  const noised = raw.map((u, k) => privatizeOnDevice(u, dp, global, split.nItems, gaussianFor('seeded', 9, 'client', k)));
  return { split, info, clients, raw, noised };
}

test('the fixed-point range holds a noised value: noise ≤ 8.6σ, the sum decodes within n/(2·scale), nothing clipped', async () => {
  // both Gaussian sources are Box–Muller on uniforms ≥ 2^-53: |N| ≤ √(2·53·ln 2) ≈ 8.57
  const g = new SecureGaussian();
  let max = 0;
  for (let k = 0; k < 200_000; k++) max = Math.max(max, Math.abs(g.normal()));
  assert.ok(max < 8.58, `max |N| ${max}`);
  const dp: DpClientPlan = { mode: 'distributed', clip: 0.5, noiseStd: 0.5, noise: 'seeded' }; // a large share: σ = C
  const n = 12;
  const { split, info, noised } = await privatizedRound(n, dp);
  const bound = privatizedValueBound(dp);
  const enc: Encoding = { tables: tableSlots(info), nItems: split.nItems, participants: n, clip: bound, weighting: 'uniform' };
  const sum = new Uint32Array(vectorLength(enc));
  const float: Record<string, Float64Array> = {};
  for (const u of noised) {
    const { vector, clipped } = encodeUpdate(enc, u);
    assert.equal(clipped, 0, 'a noised value hit the fixed-point clip');
    addInto(sum, vector);
    for (const [name, t] of Object.entries({ ...u.itemTables, ...u.denseTables })) {
      const f = (float[name] ??= new Float64Array(t.length));
      for (let k = 0; k < t.length; k++) f[k] += t[k];
    }
  }
  const decoded = decodeSum(enc, sum);
  const tol = n / (2 * valueScale(enc));
  let worst = 0;
  for (const [name, f] of Object.entries(float)) for (let k = 0; k < f.length; k++) worst = Math.max(worst, Math.abs(decoded.sums[name][k] - f[k]));
  assert.ok(worst <= tol, `decoded vs float sum ${worst} > bound ${tol}`);
  assert.equal(decoded.clients, n);
  assert.equal(decoded.lossSum, 0, 'devices do not send their loss under distributed DP');
});

test('secure + distributed DP simulation equals the plain distributed-DP run within the fixed-point bound; ε charged at z·√τ', async () => {
  const c = parseTrainConfig(TRAINING);
  const plain = await runTraining(c);
  const secure = await runTraining(c, undefined, { secureSum: { clip: DEFAULT_CLIP, threshold: 0.6 } });
  let diff = 0;
  const a = plain.model.params.global as Record<string, Float32Array>;
  const b = secure.model.params.global as Record<string, Float32Array>;
  for (const name of Object.keys(a)) for (let k = 0; k < a[name].length; k++) diff = Math.max(diff, Math.abs(a[name][k] - b[name][k]));
  const hrPlain = plain.result.metrics.test.sampled?.['HR@10'] as number;
  const hrSecure = secure.result.metrics.test.sampled?.['HR@10'] as number;
  process.stdout.write(`# secure+DP vs plain distributed DP: max |Δθ| ${diff}; HR@10 ${hrSecure} vs ${hrPlain}; ε ${secure.result.privacy?.epsilon} vs ${plain.result.privacy?.epsilon}\n`);
  assert.ok(diff < 1e-6, `max |Δθ| ${diff}`);
  assert.ok(Math.abs(hrPlain - hrSecure) <= 0.02, `HR@10 secure ${hrSecure} vs plain ${hrPlain}`);
  const p = secure.result.privacy;
  assert.ok(p);
  assert.equal(p.mode, 'distributed');
  assert.equal(p.minFraction, 0.6);
  assert.ok(Math.abs((p.accountedNoiseMultiplier as number) - 0.7 * Math.sqrt(0.6)) < 1e-12);
  const expected = epsilonOf({ samplingRate: 0.8, noiseMultiplier: 0.7 * Math.sqrt(0.6), rounds: 4, delta: 1e-3 }).epsilon;
  assert.ok(Math.abs((p.epsilon as number) - expected) < 1e-9 * expected);
  assert.ok((p.epsilon as number) > (plain.result.privacy?.epsilon as number), 'the floor costs ε');
  assert.equal(accountedNoiseMultiplier({ noiseMultiplier: 0.7, mode: 'central', minFraction: 0.5 }), 0.7, 'a floor applies to distributed shares only');
});

test("the coordinator's view of a secure + DP round, the masked vectors, gives the item-guessing attack chance AUC", async () => {
  const n = 10;
  const dp: DpClientPlan = { mode: 'distributed', clip: 0.5, noiseStd: (0.7 * 0.5) / Math.sqrt(n), noise: 'seeded' };
  const { split, info, clients, noised } = await privatizedRound(n, dp);
  const enc: Encoding = { tables: tableSlots(info), nItems: split.nItems, participants: n, clip: DEFAULT_CLIP, weighting: 'uniform' };
  const inputs = new Map(clients.map((cl, k) => [cl.clientId, encodeUpdate(enc, noised[k]).vector]));
  const r = await runLocalRound({ round: 1, threshold: 6, neighbours: null, vectorLength: vectorLength(enc), minSurvivors: 7 }, inputs);
  assert.equal(r.abort, null);
  const positives = clients.map((cl) => new Set(cl.positives[0]));
  const masked = clients.map((cl, k) => auc(maskedScores(r.masked.get(cl.clientId) as Uint32Array, enc), positives[k]));
  const noisedClear = clients.map((cl, k) => auc(maskedScores(encodeUpdate(enc, noised[k]).vector, enc), positives[k]));
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  process.stdout.write(`# attack AUC on masked inputs ${mean(masked).toFixed(4)}; on the same noised updates in the clear ${mean(noisedClear).toFixed(4)}\n`);
  assert.ok(Math.abs(mean(masked) - 0.5) < 0.1, `masked AUC ${mean(masked)}`);
  // the unmasked sum is the sum of the noised updates
  const decoded = decodeSum(enc, r.sum as Uint32Array);
  assert.equal(decoded.clients, n);
});

test('below the DP floor: the secure round aborts before unmasking, and the aggregator releases nothing', async () => {
  const n = 10;
  const enc: Encoding = { tables: [{ name: 'itemBias', rows: 20, cols: 1, item: true }], nItems: 20, participants: n, clip: 4, weighting: 'uniform' };
  const inputs = new Map(Array.from({ length: n }, (_, k) => [k, encodeUpdate(enc, { round: 1, weight: 1, loss: 0, rows: Int32Array.of(k), itemTables: { itemBias: Float32Array.of(1) }, denseTables: {} }).vector]));
  const drop = new Map(Array.from({ length: 4 }, (_, k) => [k, 'masked' as const]));
  const r = await runLocalRound({ round: 1, threshold: 5, neighbours: null, vectorLength: vectorLength(enc), minSurvivors: 7 }, inputs, drop);
  assert.equal(r.sum, null);
  assert.match(r.abort as string, /DP floor is 7/);

  const info = modelParamInfo({ kind: 'mf', dim: 2 }, 0, 20).filter((p) => p.scope === 'global');
  const inner = new FedAvg(info, 20, { serverOptimizer: { kind: 'sgd', lr: 1 }, rowAveraging: 'touched' });
  const agg = new DpAggregator(inner, info, 20, { clip: 1, noiseMultiplier: 1, samplingRate: 1, delta: 1e-5, mode: 'distributed', noise: 'seeded', seed: 1, minFraction: 0.6 }, () => 10);
  assert.equal(agg.minContributors(), 6);
  const g = { itemEmb: new Float32Array(40), itemBias: new Float32Array(20), globalBias: new Float32Array(1) };
  agg.beginRound(1);
  for (let k = 0; k < 5; k++) agg.accept({ round: 1, weight: 1, loss: 0, rows: Int32Array.of(k), itemTables: { itemEmb: new Float32Array(2).fill(0.1), itemBias: Float32Array.of(0.1) }, denseTables: { globalBias: Float32Array.of(0) } });
  assert.equal(agg.endRound(g).clients, 0);
  assert.ok(g.itemBias.every((v) => v === 0), 'nothing released');
  assert.ok(Math.abs(agg.report().accountedNoiseMultiplier as number - Math.sqrt(0.6)) < 1e-12);
});

test('FedRecon: secure + distributed DP simulation equals the plain distributed-DP run; ε charged at z·√τ', async () => {
  const c = parseTrainConfig({ syntheticUsers: 40, syntheticItems: 300, syntheticInteractions: 1400, dim: 8, rounds: 3, seed: 5, algorithm: 'fedrecon', eval: ['sampled'], k: [10], evalEvery: 1000, dpClip: 0.5, dpNoiseMultiplier: 0.7, dpMode: 'distributed', dpDelta: 1e-3, fraction: 0.8, dpNoise: 'seeded' });
  const plain = await runFedReconTraining(c);
  const secure = await runFedReconTraining(c, undefined, { secureSum: { clip: DEFAULT_CLIP } });
  let diff = 0;
  const a = plain.global as Record<string, Float32Array>;
  const b = secure.global as Record<string, Float32Array>;
  for (const name of Object.keys(a)) for (let k = 0; k < a[name].length; k++) diff = Math.max(diff, Math.abs(a[name][k] - b[name][k]));
  assert.ok(diff < 1e-6, `max |Δθ| ${diff}`);
  assert.ok(Math.abs((secure.result.privacy?.accountedNoiseMultiplier as number) - 0.7 * Math.sqrt(0.6)) < 1e-12);
});
