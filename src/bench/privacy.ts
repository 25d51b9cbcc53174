/**
 * Privacy benchmark (issue 17): an honest-but-curious coordinator on ML-100K, one user per client,
 * the default federated round (MF, round 1 from the initial model, every client). From what the
 * coordinator receives and stores of each client it ranks all items and guesses the client's
 * train positives:
 *  - plain: the stored update names the rows the client touched (positives and sampled negatives)
 *    and the sign of the itemBias delta tells positives (pushed up) from negatives (pushed down):
 *    score = touched ? 1 + sigmoid(100 · Δbias) : 0;
 *  - secure: the same attack on what a secure round stores, the masked vector read as the
 *    fixed-point encoding (fixed-point.ts: a row is 'touched' when its row-weight slot is non-zero,
 *    Δbias is its decoded slot).
 * Prints one JSON line per setting with the attack's AUC and precision at the number of positives,
 * then the cost of a round at 100 and 1000 clients, plain vs secure (bytes up/down per client and
 * for the coordinator, client and coordinator CPU), from the real protocol run in this process.
 * Timings on the shared 2-core machine are indicative only.
 */
import { clientNegativeSource, runClientRound } from '../federated/client-work.js';
import { FedAvg } from '../federated/fedavg.js';
import type { ClientData, GlobalUpdate, RoundPlan } from '../federated/types.js';
import { modelParamInfo } from '../models/registry.js';
import { partitionClients } from '../federated/partition.js';
import { clientOptimizerOf, effectiveBatch, parseTrainConfig, recencyOf, serverOptimizerOf } from '../config/config.js';
import { loadConfiguredDataset, modelConfigOf, splitDataset } from '../recipes/experiment.js';
import { hashRoundSeed, initGlobal } from '../simulation/simulation.js';
import { decodeSum, encodeUpdate, slotValue, tableSlots, valueScale, vectorLength, type Encoding } from '../secagg/fixed-point.js';
import { shareThreshold } from '../secagg/graph.js';
import { runLocalRound } from '../secagg/local-round.js';
import { DEFAULT_CLIP } from '../secagg/settings.js';
import type { SecAggPhase } from '../secagg/types.js';
import { validateUpdate } from '../server/validate.js';
import { decodeUpdate, encodeModel, encodeUpdate as wireUpdate } from '../wire/messages.js';
import { ml100kPath } from './util.js';
import { dpBenchmark } from './dp.js';
import { secureDpBenchmark } from './secure-dp.js';

/** AUC of `scores` for the `positives` against every other item (ties count one half). */
export function auc(scores: Float64Array, positives: ReadonlySet<number>): number {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const mid = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (positives.has(order[k])) rankSum += mid;
    i = j + 1;
  }
  const p = positives.size;
  const q = scores.length - p;
  return (rankSum - (p * (p + 1)) / 2) / (p * q);
}

/** Precision of the top-|positives| items; ties broken by a fixed pseudo-random order (not by id, which follows popularity). */
function precisionAtP(scores: Float64Array, positives: ReadonlySet<number>): number {
  const tie = (i: number): number => Math.imul(i + 1, 2654435761) >>> 0;
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || tie(a) - tie(b));
  let hit = 0;
  for (let k = 0; k < positives.size; k++) if (positives.has(order[k])) hit++;
  return hit / positives.size;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

function plainScores(update: GlobalUpdate, nItems: number): Float64Array {
  const s = new Float64Array(nItems);
  const bias = update.itemTables.itemBias;
  update.rows.forEach((r, k) => (s[r] = 1 + sigmoid(100 * (bias ? bias[k] : 0))));
  return s;
}

export function maskedScores(y: Uint32Array, e: Encoding): Float64Array {
  const s = new Float64Array(e.nItems);
  let biasAt = -1;
  let base = 0;
  for (const t of e.tables) {
    if (t.name === 'itemBias') biasAt = base;
    base += t.rows * t.cols;
  }
  const scale = valueScale(e);
  for (let r = 0; r < e.nItems; r++) {
    const touched = slotValue(y, base + r) !== 0;
    s[r] = touched ? 1 + sigmoid(100 * (biasAt >= 0 ? slotValue(y, biasAt + r) / scale : 0)) : 0;
  }
  return s;
}

interface AttackResult {
  attackAuc: number;
  precisionAtPositives: number;
}

function meanAttack(per: AttackResult[]): AttackResult {
  return {
    attackAuc: per.reduce((s, r) => s + r.attackAuc, 0) / per.length,
    precisionAtPositives: per.reduce((s, r) => s + r.precisionAtPositives, 0) / per.length,
  };
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const line = (v: unknown): void => void process.stdout.write(JSON.stringify(v) + '\n');

/** SecAgg+ degree used where the complete graph is too costly (n = 943, 1000). */
const NEIGHBOURS = 32;
const THRESHOLD = 0.6;

const SECTIONS = ['attack', 'costs', 'secure-dp', 'dp'] as const;
type Section = (typeof SECTIONS)[number];

/**
 * `npm run bench -- privacy [--attack] [--costs] [--secure-dp] [--dp]`: the privacy figures in one
 * place — the curious coordinator's attack, plain vs secure (issue 17); the cost of secure rounds;
 * the coordinator's view under distributed DP with and without secure aggregation (bench/secure-dp.ts);
 * the DP privacy–utility table with the membership-inference attack (bench/dp.ts, also `bench -- dp`).
 * No flag: every section.
 */
export async function privacyBenchmark(): Promise<void> {
  const asked = process.argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2));
  const unknown = asked.filter((a) => !(SECTIONS as readonly string[]).includes(a));
  if (unknown.length > 0) throw new Error(`unknown privacy section(s) ${unknown.map((a) => `--${a}`).join(', ')}; sections: ${SECTIONS.map((a) => `--${a}`).join(' ')}`);
  const on = (s: Section) => asked.length === 0 || asked.includes(s);
  if (on('attack') || on('costs')) await coordinatorBench(on('costs'));
  if (on('secure-dp')) await secureDpBenchmark();
  if (on('dp')) await dpBenchmark();
}

async function coordinatorBench(costs: boolean): Promise<void> {
  const path = ml100kPath();
  const c = parseTrainConfig({ ...(path ? { data: path } : {}), mode: 'federated', usersPerClient: 1 });
  const dataset = await loadConfiguredDataset(c);
  const split = splitDataset(dataset, c.split, c.seed);
  const config = modelConfigOf(c);
  const clients: ClientData[] = partitionClients(split, 1, c.seed);
  const info = modelParamInfo(config, 0, split.nItems).filter((p) => p.scope === 'global');
  const global = initGlobal(config, split.nItems, c.seed);
  const plan: RoundPlan = {
    round: 1, model: config, loss: c.loss, localEpochs: c.localEpochs, batch: effectiveBatch(c), negatives: c.negatives,
    optimizer: clientOptimizerOf(c), recency: recencyOf(c), seed: hashRoundSeed(c.seed, 1),
  };
  const t0 = performance.now();
  const updates = clients.map((cl) => runClientRound(plan, global, cl, null, clientNegativeSource(split.nItems, cl)).update);
  const trainMs = (performance.now() - t0) / clients.length;
  const positives = clients.map((cl) => new Set(cl.positives[0]));

  // The attack, plain: on the stored updates.
  const plain = meanAttack(updates.map((u, k) => {
    const s = plainScores(u, split.nItems);
    return { attackAuc: auc(s, positives[k]), precisionAtPositives: precisionAtP(s, positives[k]) };
  }));
  line({ setting: 'plain', dataset: dataset.name, clients: clients.length, ...mapRound(plain) });

  // The attack, secure: on the masked vectors a real SecAgg+ round delivers to the coordinator.
  const enc: Encoding = { tables: tableSlots(info), nItems: split.nItems, participants: clients.length, clip: DEFAULT_CLIP, weighting: 'examples' };
  const encoded = updates.map((u) => encodeUpdate(enc, u));
  const clippedValues = encoded.reduce((s, e) => s + e.clipped, 0);
  const inputs = new Map(clients.map((cl, k) => [cl.clientId, encoded[k].vector]));
  const settings = { round: 1, threshold: shareThreshold(THRESHOLD, clients.length, NEIGHBOURS), neighbours: NEIGHBOURS, vectorLength: vectorLength(enc) };
  const r = await runLocalRound(settings, inputs);
  const secure = meanAttack(clients.map((cl, k) => {
    const s = maskedScores(r.masked.get(cl.clientId) as Uint32Array, enc);
    return { attackAuc: auc(s, positives[k]), precisionAtPositives: precisionAtP(s, positives[k]) };
  }));
  // The unmasked sum equals the plain float sum within the fixed-point bound.
  const exact = new FedAvg(info, split.nItems, { serverOptimizer: serverOptimizerOf(c), rowAveraging: c.rowAveraging });
  exact.beginRound(1);
  for (const u of updates) exact.accept(u);
  const floatSums = (exact as unknown as { acc: { partial(): { sums: Record<string, Float64Array> } } }).acc.partial().sums;
  const decoded = decodeSum(enc, r.sum as Uint32Array);
  let maxErr = 0;
  for (const [name, s] of Object.entries(floatSums)) for (let k = 0; k < s.length; k++) maxErr = Math.max(maxErr, Math.abs(s[k] - decoded.sums[name][k]));
  line({
    setting: 'secure', dataset: dataset.name, clients: clients.length, protocol: `SecAgg+ k=${NEIGHBOURS}`, threshold: settings.threshold, ...mapRound(secure),
    clip: DEFAULT_CLIP, scale: valueScale(enc), clippedValues, maxAbsSumError: maxErr, sumErrorBound: clients.length / (2 * valueScale(enc)),
  });
  const chancePrecision = positives.reduce((t, p) => t + p.size / split.nItems, 0) / positives.length;
  process.stdout.write(`attack AUC plain ${plain.attackAuc.toFixed(3)} (target ≈ 1), secure ${secure.attackAuc.toFixed(3)} (target ≤ 0.55, chance 0.5): ${secure.attackAuc <= 0.55 ? 'MET' : 'NOT MET'}; ` +
    `precision at #positives plain ${plain.precisionAtPositives.toFixed(3)}, secure ${secure.precisionAtPositives.toFixed(3)} (chance ${chancePrecision.toFixed(3)})\n`);

  if (!costs) return;
  // Costs per round at 100 and 1000 clients: the ML-100K updates, reused in turn past 943.
  const modelBytes = encodeModel(global, 0, info.map((p) => p.name)).length;
  for (const n of [100, 1000]) {
    const ups = Array.from({ length: n }, (_, k) => ({ ...updates[k % updates.length] }));
    const bodies = ups.map((u) => wireUpdate(u));
    const t1 = performance.now();
    const fold = new FedAvg(info, split.nItems, { serverOptimizer: serverOptimizerOf(c), rowAveraging: c.rowAveraging });
    fold.beginRound(1);
    for (const b of bodies) {
      const u = decodeUpdate(b);
      fold.accept(validateUpdate(u, info, { nItems: split.nItems, maxWeight: 1e6, normMode: 'reject' }).update);
    }
    fold.endRound(structuredClone(global));
    const plainServerMs = performance.now() - t1;
    const up = bodies.reduce((s, b) => s + b.length, 0) / n;
    line({ setting: 'plain', clients: n, bytesUpPerClient: Math.round(up), bytesDownPerClient: modelBytes, coordinatorBytesIn: Math.round(up * n), coordinatorBytesOut: modelBytes * n, clientMs: round1(trainMs), coordinatorMs: round1(plainServerMs) });
    const e: Encoding = { ...enc, participants: n };
    for (const degree of n <= 100 ? [null, NEIGHBOURS] : [NEIGHBOURS]) {
      for (const dropRate of [0, 0.1]) {
        const ins = new Map(ups.map((u, k) => [k, encodeUpdate(e, u).vector]));
        const tEnc0 = performance.now();
        encodeUpdate(e, ups[0]);
        const encodeMs = performance.now() - tEnc0;
        const drops = new Map<number, SecAggPhase>();
        for (let k = 0; k < n; k++) if (dropRate > 0 && k % Math.round(1 / dropRate) === 3) drops.set(k, 'masked');
        const s = { round: 1, threshold: shareThreshold(THRESHOLD, n, degree), neighbours: degree, vectorLength: vectorLength(e) };
        const res = await runLocalRound(s, ins, drops, { keepMasked: false });
        const alive = [...res.clientMs.keys()].filter((id) => !drops.has(id));
        const mean = (m: ReadonlyMap<number, number>) => alive.reduce((t, id) => t + (m.get(id) ?? 0), 0) / alive.length;
        const t2 = performance.now();
        decodeSum(e, res.sum as Uint32Array);
        const decodeMs = performance.now() - t2;
        line({
          setting: 'secure', clients: n, protocol: degree === null ? 'SecAgg (complete graph)' : `SecAgg+ k=${degree}`, threshold: s.threshold, droppedBeforeMasked: drops.size,
          bytesUpPerClient: Math.round(mean(res.bytesUp)), bytesDownPerClient: Math.round(mean(res.bytesDown)) + modelBytes,
          coordinatorBytesIn: sumOf(res.bytesUp), coordinatorBytesOut: sumOf(res.bytesDown) + modelBytes * n,
          clientMs: round1(trainMs + encodeMs + mean(res.clientMs)), clientProtocolMs: round1(mean(res.clientMs) + encodeMs),
          coordinatorMs: round1(res.serverMs + decodeMs),
        });
      }
    }
  }
}

function mapRound(a: AttackResult): AttackResult {
  return { attackAuc: round4(a.attackAuc), precisionAtPositives: round4(a.precisionAtPositives) };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const sumOf = (m: ReadonlyMap<number, number>): number => [...m.values()].reduce((s, x) => s + x, 0);
