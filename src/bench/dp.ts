/**
 * `npm run bench -- privacy --dp` (alias `npm run bench -- dp`): the privacy–utility table of user-level DP-FedAvg (privacy/dp-fedavg.ts)
 * and a loss-threshold membership-inference attack (privacy/membership.ts), on MovieLens-100K and
 * on a synthetic population of 100 000 users (data/synthetic.ts).
 * Protocol, the same for every row: a seeded share of users is held out of training entirely (the
 * attack's non-members); the rest train MF with FedAvg's defaults; for each ε ∈ {∞, 8, 4, 2, 1}
 * every (sampling rate q, rounds T) of a small grid gets the noise multiplier z that spends exactly
 * ε at δ (RDP accountant), adaptive clipping to the median norm (Andrew et al.), and the model of the
 * LAST round; the grid point with the best validation NDCG@10 is reported with its test metrics
 * (test is never looked at to choose). ε = ∞: the same grid without clipping or noise.
 */
import { DatasetBuilder } from '../data/builder.js';
import { generateSynthetic } from '../data/synthetic.js';
import { loadDataset } from '../data/readers.js';
import { rowOf } from '../data/user-items.js';
import type { Dataset } from '../data/types.js';
import { Rng } from '../math/rng.js';
import { parseTrainConfig } from '../config/config.js';
import { runTraining, type TrainedRun } from '../recipes/experiment.js';
import { noiseMultiplierFor } from '../privacy/rdp-accountant.js';
import { lossThresholdAuc, type MembershipCandidate } from '../privacy/membership.js';
import { ml100kPath } from './util.js';
import { initGlobal } from '../simulation/simulation.js';
import type { GlobalParams } from '../models/types.js';

interface Population {
  readonly name: string;
  readonly members: Dataset;
  /** Held-out users' histories without their two latest items (as the members' train sets), in member item ids. */
  readonly nonMembers: Int32Array[];
  readonly grid: readonly { readonly q: number; readonly rounds: number }[];
  readonly delta: number;
}

/** `FEDREC_DP_EPSILONS=inf,8` runs a subset. */
const EPSILONS = (process.env.FEDREC_DP_EPSILONS ?? 'inf,8,4,2,1').split(',').map((e) => (e.trim() === 'inf' ? Infinity : Number(e)));
const ATTACK_CANDIDATES = 1000;

/** Hold out `share` of the users (seeded); the rest form the training data set. */
export function holdOut(name: string, full: Dataset, share: number, grid: Population['grid']): Population {
  const rng = Rng.derive(7, 'dp-bench-holdout', name);
  const held = new Set<number>();
  for (let u = 0; u < full.nUsers; u++) if (rng.next() < share) held.add(u);
  const { users, items, ratings, timestamps } = full.interactions;
  const b = new DatasetBuilder(full.name);
  const byUser = new Map<number, { item: number; t: number }[]>();
  for (let k = 0; k < users.length; k++) {
    const u = users[k];
    if (held.has(u)) {
      const list = byUser.get(u) ?? [];
      list.push({ item: items[k], t: timestamps ? timestamps[k] : k });
      byUser.set(u, list);
    } else b.add(full.userIds[u], full.itemIds[items[k]], ratings ? ratings[k] : undefined, timestamps ? timestamps[k] : undefined);
  }
  const members = b.build();
  const nonMembers = [...byUser.values()].map((list) => {
    list.sort((a, c) => a.t - c.t);
    const kept = list.slice(0, Math.max(0, list.length - 2)).map((e) => members.itemIndex.get(full.itemIds[e.item]));
    return Int32Array.from(kept.filter((i): i is number => i !== undefined));
  }).filter((x) => x.length > 0);
  return { name, members, nonMembers, grid, delta: 1 / Math.pow(members.nUsers, 1.1) };
}

export function attack(run: TrainedRun, pop: Population, global: GlobalParams = run.model.params.global): number {
  const rng = Rng.derive(11, 'dp-bench-attack', pop.name);
  const memberUsers = rng.shuffle(Int32Array.from({ length: run.split.nUsers }, (_, u) => u)).slice(0, ATTACK_CANDIDATES);
  const outsiders = rng.shuffle(pop.nonMembers.slice()).slice(0, ATTACK_CANDIDATES);
  const candidates: MembershipCandidate[] = [
    ...Array.from(memberUsers, (u) => ({ items: rowOf(run.split.train, u), member: true })).filter((c) => c.items.length > 0),
    ...outsiders.map((items) => ({ items, member: false })),
  ];
  return lossThresholdAuc(global, candidates, { dim: 32, seed: 3 });
}

interface Row {
  readonly epsilon: number;
  readonly q: number;
  readonly rounds: number;
  readonly z: number;
  readonly run: TrainedRun;
  readonly valNdcg: number;
}

async function trainOnce(pop: Population, epsilon: number, q: number, rounds: number): Promise<Row> {
  const z = Number.isFinite(epsilon) ? noiseMultiplierFor({ epsilon, samplingRate: q, rounds, delta: pop.delta }) : 0;
  const dp = Number.isFinite(epsilon)
    ? { dpClip: 1, dpQuantile: 0.5, dpNoiseMultiplier: z, dpDelta: pop.delta }
    : {};
  const config = parseTrainConfig({ rounds, fraction: q, evalEvery: rounds, eval: ['sampled'], k: [10], select: 'last', seed: 42, ...dp });
  const run = await runTraining(config, undefined, { preloaded: pop.members });
  const valNdcg = run.result.metrics.validation.sampled?.['NDCG@10'] as number;
  return { epsilon, q, rounds, z, run, valNdcg };
}

const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '∞');

async function table(pop: Population): Promise<void> {
  const N = pop.members.nUsers;
  process.stdout.write(`\n## ${pop.name}: ${N} training users (clients), ${pop.nonMembers.length} held-out users, ${pop.members.nItems} items; δ = 1/N^1.1 = ${pop.delta.toExponential(2)}\n`);
  process.stdout.write('grid (q, rounds): ' + pop.grid.map((g) => `(${g.q}, ${g.rounds})`).join(' ') + '\n');
  const rows: string[] = [];
  let popularity = '';
  for (const epsilon of EPSILONS) {
    let best: Row | null = null;
    for (const { q, rounds } of pop.grid) {
      const started = performance.now();
      const r = await trainOnce(pop, epsilon, q, rounds);
      const t = r.run.result.metrics.test.sampled ?? {};
      process.stdout.write(`  ε ${f(epsilon, 0)} q ${q} T ${rounds} z ${f(r.z)}: val NDCG@10 ${f(r.valNdcg, 4)} (test HR@10 ${f(t['HR@10'], 4)}) ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
      if (!best || r.valNdcg > best.valNdcg) best = r;
    }
    const b = best as Row;
    const t = b.run.result.metrics.test.sampled ?? {};
    const p = b.run.result.privacy;
    const auc = attack(b.run, pop);
    const clip = p?.adaptiveClipping ? f(p.adaptiveClipping.finalClip, 2) : '—';
    if (!Number.isFinite(epsilon)) {
      // the same attack on the untrained initial model: this candidate set's chance level
      const initial = initGlobal(b.run.model.config, b.run.model.nItems, 42);
      process.stdout.write(`  attack AUC against the untrained initial model (chance level of these candidates): ${f(attack(b.run, pop, initial), 3)}\n`);
    }
    const row = `| ${f(epsilon, 0)} | ${p ? f(p.epsilon ?? Infinity, 2) : '∞'} | ${f(b.z, 3)} | ${b.q} | ${Math.round(b.q * N)} | ${b.rounds} | ${clip} | ${f(b.valNdcg, 4)} | ${f(t['HR@10'], 4)} | ${f(t['NDCG@10'], 4)} | ${f(auc, 3)} |`;
    process.stdout.write(`  chosen: ${row}\n`);
    rows.push(row);
    const pop10 = b.run.result.baselines.popularity.test?.sampled;
    popularity = `| popularity | — | — | — | — | — | — | ${f(b.run.result.baselines.popularity.validation?.sampled?.['NDCG@10'] ?? NaN, 4)} | ${f(pop10?.['HR@10'] ?? NaN, 4)} | ${f(pop10?.['NDCG@10'] ?? NaN, 4)} | — |`;
  }
  process.stdout.write('\n| target ε | ε spent | noise multiplier z | q | clients/round (qN) | rounds | final clip C | val NDCG@10 | test HR@10 | test NDCG@10 | attack AUC |\n');
  process.stdout.write('|---|---|---|---|---|---|---|---|---|---|---|\n');
  process.stdout.write([...rows, popularity].join('\n') + '\n');
}

/** `FEDREC_DP_GRID=1:5,0.3:5` replaces the (q, rounds) grid: a quick check of the bench, not the table. */
function gridOf(fallback: Population['grid']): Population['grid'] {
  const given = process.env.FEDREC_DP_GRID;
  if (!given) return fallback;
  return given.split(',').map((g) => {
    const [q, rounds] = g.split(':').map(Number);
    if (!(q > 0 && q <= 1) || !(Number.isInteger(rounds) && rounds > 0)) throw new Error(`FEDREC_DP_GRID: '${g}' is not q:rounds with 0 < q ≤ 1 and whole rounds ≥ 1`);
    return { q, rounds };
  });
}

export async function dpBenchmark(): Promise<void> {
  const which = process.env.FEDREC_DP_BENCH ?? 'ml-100k,synthetic';
  if (which.includes('ml-100k')) {
    const path = ml100kPath();
    const full = path ? await loadDataset({ path }) : generateSynthetic({ seed: 42 });
    await table(holdOut(path ? 'MovieLens-100K' : 'synthetic (ML-100K shape)', full, 0.2, gridOf([
      { q: 0.3, rounds: 30 }, { q: 1, rounds: 30 }, { q: 1, rounds: 60 },
    ])));
  }
  if (which.includes('synthetic')) {
    const full = generateSynthetic({ users: 111_112, items: 2000, interactions: 111_112 * 20, seed: 42 });
    await table(holdOut('synthetic 100k users', full, 0.1, gridOf([
      { q: 0.01, rounds: 30 }, { q: 0.03, rounds: 30 }, { q: 0.03, rounds: 60 },
    ])));
  }
}
