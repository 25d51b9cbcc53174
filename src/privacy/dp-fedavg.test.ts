/**
 * DP-FedAvg's claims, checked on the real FedAvg strategy (server SGD, lr 1, so the model moves by
 * exactly the released average): whole-update clipping bounds one client's contribution by C; the
 * weights are uniform; the average divides by the fixed qN; the noise is dense (every row of every
 * table, touched or not) with standard deviation zC/qN; a device's distributed share is clipped and
 * noised before it leaves; adaptive clipping moves C toward the quantile; Poisson sampling; the
 * clip norm survives a checkpoint exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FedAvg } from '../federated/fedavg.js';
import type { GlobalUpdate } from '../federated/types.js';
import { modelParamInfo } from '../models/registry.js';
import { Rng } from '../math/rng.js';
import { DpAggregator, poissonSample, privatizeOnDevice, updateNoiseMultiplier, updateNorm, type DpSettings } from './dp-fedavg.js';

const N_ITEMS = 50;
const DIM = 4;
const info = modelParamInfo({ kind: 'mf', dim: DIM }, 0, N_ITEMS).filter((p) => p.scope === 'global');

function zeroGlobal(): Record<string, Float32Array> {
  return { itemEmb: new Float32Array(N_ITEMS * DIM), itemBias: new Float32Array(N_ITEMS), globalBias: new Float32Array(1) };
}

function update(round: number, rows: number[], value: number, weight = 7): GlobalUpdate {
  return {
    round, weight, loss: 0.5, rows: Int32Array.from(rows),
    itemTables: { itemEmb: new Float32Array(rows.length * DIM).fill(value), itemBias: new Float32Array(rows.length).fill(value) },
    denseTables: { globalBias: Float32Array.of(value) },
  };
}

function aggregator(settings: Partial<DpSettings>, population = 4): DpAggregator {
  const inner = new FedAvg(info, N_ITEMS, { serverOptimizer: { kind: 'sgd', lr: 1 }, rowAveraging: 'touched' });
  const s: DpSettings = { clip: 1, noiseMultiplier: 0, samplingRate: 0.5, delta: 1e-5, mode: 'central', noise: 'seeded', seed: 3, ...settings };
  return new DpAggregator(inner, info, N_ITEMS, s, () => population);
}

function norm(tables: Record<string, Float32Array>): number {
  let s = 0;
  for (const t of Object.values(tables)) for (const v of t) s += v * v;
  return Math.sqrt(s);
}

test('clipping bounds each client by C, weights are uniform, and the average divides by the fixed qN', () => {
  const dp = aggregator({ clip: 1, samplingRate: 0.5 }, 4); // m = 2
  const g = zeroGlobal();
  dp.beginRound(1);
  const big = update(1, [0, 1, 2], 10, 1000); // norm ≫ 1, huge example count
  assert.ok(updateNorm(big) > 10);
  dp.accept(big);
  const summary = dp.endRound(g);
  assert.equal(summary.clients, 1);
  // one client, clipped to 1, divided by m = 2 (not by 1 client, not by its weight)
  assert.ok(Math.abs(norm(g) - 0.5) < 1e-6, `‖Δθ‖ ${norm(g)}`);
  // untouched rows stay 0 without noise; touched ones share the clipped direction
  assert.equal(g.itemBias[10], 0);
  assert.ok(g.itemBias[0] > 0);
});

test('sensitivity: adding or removing one client moves the pre-noise sum by at most C, whatever its data', () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 20; trial++) {
    const others = [update(1, [1, 2], 0.3), update(1, [2, 9], -0.2)];
    const extra = update(1, [rng.int(N_ITEMS)], (rng.next() - 0.5) * 100, 1 + rng.int(1000));
    const run = (ups: GlobalUpdate[]) => {
      const dp = aggregator({ clip: 0.7, samplingRate: 1 }, 1); // m = 1: the model moves by the sum
      const g = zeroGlobal();
      dp.beginRound(1);
      ups.forEach((u) => dp.accept(u));
      dp.endRound(g);
      return g;
    };
    const a = run(others);
    const b = run([...others, extra]);
    const diff: Record<string, Float32Array> = {};
    for (const k of Object.keys(a)) diff[k] = a[k].map((v, i) => v - b[k][i]);
    assert.ok(norm(diff) <= 0.7 + 1e-6, `trial ${trial}: one client moved the sum by ${norm(diff)}`);
  }
});

test('central noise is dense with standard deviation zC/qN on every entry', () => {
  const z = 2;
  const dp = aggregator({ clip: 0.5, noiseMultiplier: z, samplingRate: 0.25 }, 8); // m = 2
  const g = zeroGlobal();
  dp.beginRound(1);
  dp.accept(update(1, [3], 0.01));
  dp.endRound(g);
  const values = Array.from(g.itemEmb).filter((_, k) => Math.floor(k / DIM) !== 3);
  assert.ok(values.every((v) => v !== 0), 'every untouched row got noise');
  const sd = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
  const expected = (z * 0.5) / 2;
  assert.ok(Math.abs(sd - expected) < 0.15 * expected, `noise sd ${sd} vs ${expected}`);
});

test('distributed mode: a device clips and noises its own dense update; the server adds nothing', () => {
  const u = update(1, [4, 5], 3);
  const share = privatizeOnDevice(u, { mode: 'distributed', clip: 1, noiseStd: 0, noise: 'seeded' }, zeroGlobal(), N_ITEMS, new Rng(1));
  assert.equal(share.rows.length, N_ITEMS);
  assert.equal(share.weight, 1);
  assert.ok(Math.abs(updateNorm(share) - 1) < 1e-6);
  const noisy = privatizeOnDevice(u, { mode: 'distributed', clip: 1, noiseStd: 0.3, noise: 'seeded' }, zeroGlobal(), N_ITEMS, new Rng(1));
  const untouched = Array.from(noisy.itemTables.itemEmb).filter((_, k) => ![4, 5].includes(Math.floor(k / DIM)));
  const sd = Math.sqrt(untouched.reduce((s, v) => s + v * v, 0) / untouched.length);
  assert.ok(Math.abs(sd - 0.3) < 0.05, `share noise sd ${sd}`);
  const dp = aggregator({ mode: 'distributed', clip: 1, noiseMultiplier: 5, samplingRate: 1 }, 1);
  assert.ok(Math.abs((dp.clientPlan()?.noiseStd as number) - 5) < 1e-12, 'std zC/√m with m = 1');
  const g = zeroGlobal();
  dp.beginRound(1);
  dp.accept(share);
  dp.endRound(g);
  assert.ok(Math.abs(norm(g) - 1) < 1e-6, 'the server neither clips again nor adds noise');
});

test('adaptive clipping moves C toward the target quantile; its noise split keeps the accountant\'s z', () => {
  const adaptive = { quantile: 0.5, lr: 0.2, countNoise: 0.001 };
  const shrink = aggregator({ clip: 10, adaptive, samplingRate: 1 }, 4);
  const grow = aggregator({ clip: 0.01, adaptive, samplingRate: 1 }, 4);
  for (const dp of [shrink, grow]) {
    dp.beginRound(1);
    for (let c = 0; c < 4; c++) dp.accept(update(1, [c], 0.1));
    dp.endRound(zeroGlobal());
  }
  assert.ok(shrink.clipNorm < 10 && Math.abs(shrink.clipNorm / (10 * Math.exp(-0.2 * 0.5)) - 1) < 1e-3);
  assert.ok(grow.clipNorm > 0.01 && Math.abs(grow.clipNorm / (0.01 * Math.exp(0.2 * 0.5)) - 1) < 1e-3);
  // z_Δ^-2 + (2σ_b)^-2 = z^-2
  const zd = updateNoiseMultiplier(1, { quantile: 0.5, lr: 0.2, countNoise: 5 });
  assert.ok(Math.abs(zd ** -2 + 10 ** -2 - 1) < 1e-12);
  assert.throws(() => updateNoiseMultiplier(1, { quantile: 0.5, lr: 0.2, countNoise: 0.4 }), /must exceed z\/2/);
  // the clip norm is checkpointed exactly with the server state
  const copy = aggregator({ clip: 3, adaptive }, 4);
  copy.restoreServerState(shrink.serverState());
  assert.equal(copy.clipNorm, shrink.clipNorm);
});

test('Poisson sampling takes each client independently with probability q, seeded per round', () => {
  const counts = Array.from({ length: 200 }, (_, r) => poissonSample(1000, 0.1, 9, r + 1).length);
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  assert.ok(Math.abs(mean - 100) < 3, `mean ${mean}`);
  assert.ok(new Set(counts).size > 10, 'the number of clients varies from round to round');
  assert.deepEqual(poissonSample(1000, 0.1, 9, 4), poissonSample(1000, 0.1, 9, 4));
});

test('fedrec train with --dp-clip and --dp-noise-multiplier reports a finite ε and finite metrics', async () => {
  const { spawnSync } = await import('node:child_process');
  const { resolve } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const bin = resolve(fileURLToPath(import.meta.url), '../../../bin/fedrec.js');
  const r = spawnSync(process.execPath, [bin, 'train', '--synthetic-users', '60', '--synthetic-items', '300', '--synthetic-interactions', '2000', '--rounds', '3',
    '--eval', 'sampled', '--k', '10', '--dp-clip', '1', '--dp-noise-multiplier', '1.5', '--fraction', '0.5', '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  for (const key of ['clipNorm', 'noiseMultiplier', 'samplingRate', 'rounds', 'delta', 'epsilon', 'mode']) assert.ok(key in doc.privacy, key);
  assert.ok(Number.isFinite(doc.privacy.epsilon) && doc.privacy.epsilon > 0);
  assert.equal(doc.privacy.rounds, 3);
  assert.equal(doc.config.select, 'last');
  assert.ok(Number.isFinite(doc.metrics.test.sampled['HR@10']));
});
