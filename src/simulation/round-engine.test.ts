// The round engine: one loop for synchronous and asynchronous executors, probes at evaluatesAt rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GlobalUpdate, RoundSummary, Strategy } from '../federated/types.js';
import { foldRoundSync, runRounds, runRoundsSync, type ClientExecutor, type RoundTask } from './round-engine.js';

/** Sums each round's update weights into global.w[0]; records the calls it gets. */
class SumStrategy implements Strategy {
  readonly name = 'sum';
  readonly calls: string[] = [];
  private sum = 0;
  beginRound(round: number): void { this.calls.push(`begin ${round}`); this.sum = 0; }
  accept(update: GlobalUpdate): void { this.calls.push(`accept ${update.weight}`); this.sum += update.weight; }
  endRound(global: Record<string, Float32Array>): RoundSummary { global.w[0] += this.sum; this.calls.push('end'); return { round: 0, clients: 0, loss: this.sum }; }
}

const update = (weight: number): GlobalUpdate => ({ round: 0, weight, rows: new Int32Array(0), itemTables: {}, denseTables: {}, loss: 0 });
const schedule = { rounds: 5, evalEvery: 2, plan: (round: number) => round * 10, select: (round: number) => Int32Array.of(round, round + 1) };
const executor = (delay: boolean): ClientExecutor<number> => ({
  runRound: (task: RoundTask<number>, fold) => {
    const run = () => { for (const c of task.chosen) fold.accept(update(c + task.plan)); return { bytesUp: task.chosen.length, bytesDown: 2 * task.chosen.length }; };
    return delay ? new Promise((resolve) => setTimeout(() => resolve(run()), 1)) : run();
  },
});

test('runRounds: same history with a synchronous and an asynchronous executor; probes at evaluatesAt rounds only', async () => {
  const strip = (h: { seconds: number }[]) => h.map(({ seconds, ...rest }) => rest);
  const runWith = (delay: boolean) => {
    const global = { w: new Float32Array(1) };
    const probed: number[] = [];
    const loop = { schedule, fold: new SumStrategy(), global, executor: executor(delay), probe: (r: number) => { probed.push(r); return { sampled: { 'NDCG@10': global.w[0] } }; } };
    return { out: delay ? runRounds(loop) : runRoundsSync(loop), probed, global };
  };
  const sync = runWith(false);
  const async = runWith(true);
  assert.ok(async.out instanceof Promise);
  const asyncHistory = await async.out;
  assert.deepEqual(strip(asyncHistory), strip(sync.out as never));
  assert.deepEqual(sync.probed, [2, 4, 5]);
  assert.deepEqual(async.probed, [2, 4, 5]);
  assert.deepEqual((sync.out as { validation: object }[]).map((h) => Object.keys(h.validation).length), [0, 1, 0, 1, 1]);
  // round r folds clients r and r+1 with weights c + 10r
  assert.equal(sync.global.w[0], [1, 2, 3, 4, 5].reduce((s, r) => s + (r + 10 * r) + (r + 1 + 10 * r), 0));
  assert.throws(() => runRoundsSync({ schedule, fold: new SumStrategy(), global: { w: new Float32Array(1) }, executor: executor(true), probe: () => ({}) }), /asynchronous/);
});

test('foldRoundSync: begin, the fed updates in order, end', () => {
  const s = new SumStrategy();
  const summary = foldRoundSync(s, 3, { w: new Float32Array(1) }, (fold) => { fold.accept(update(1)); fold.accept(update(2)); });
  assert.deepEqual(s.calls, ['begin 3', 'accept 1', 'accept 2', 'end']);
  assert.equal(summary.loss, 3);
});
