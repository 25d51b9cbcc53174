/**
 * Attack bench (issue 19): honest clients' validation and test HR@10 (sampled protocol, ML-100K
 * leave-one-out) with 0, 1 and 10 % of clients attacking, per attack and per server aggregation
 * rule, replayed against the default config (FedAvg MF, one user per client, every client every
 * round, server-decided uniform weights, adaptive clip capped at 10, item centring and the per-row
 * bound (config MF_ROBUST_DEFAULTS); rules: mean — the default —,
 * coordinate-wise median, trimmed mean, norm-bounded mean; federated/robust.ts). Attackers are clients of the same
 * simulation whose update is crafted from what they receive (the global tables) and from the
 * update they would have sent honestly; it goes through the same Strategy as every update:
 *  - scaled:    the honest update × 1e30;
 *  - weight:    +1 on every row of every table, claiming weight 10⁶;
 *  - nonfinite: the honest update's values all NaN;
 *  - signflip:  the honest update × −100 (boosted sign flip / model replacement);
 *  - targeted:  one unpopular item pushed toward the most popular items' embedding (×10, bias
 *               +10, weight 10⁶); its row is the item's hit rate in honest users' full top-10.
 * Diagnostic kinds (only on request): flip (× −1, no boost), signflip-emb / signflip-bias (× −100
 * on the item-embedding / item-bias table only, the rest honest): where the sign flip's harm goes.
 * `npm run bench -- attacks`; FEDREC_ATTACK_ROUNDS (default 60, the default run's selected round),
 * FEDREC_ATTACK_RULES (default mean), FEDREC_ATTACK_KINDS, FEDREC_ATTACK_FRACTIONS (comma-separated)
 * and FEDREC_ATTACK_CONFIG (JSON merged into the run config, e.g. '{"adaptiveClip":0}') select cells;
 * FEDREC_ATTACK_SEEDS (comma-separated, default the config's seed) repeats them per seed and ends
 * with each attack's cost against the no-attack model scored on the same honest users, over seeds.
 */
import { createModel, modelParamInfo } from '../models/registry.js';
import type { GlobalParams } from '../models/types.js';
import { evaluateRanking } from '../eval/ranking.js';
import { rowOf } from '../data/user-items.js';
import type { ImplicitSplit } from '../data/types.js';
import { Rng } from '../math/rng.js';
import { clientNegativeSource, runClientRound } from '../federated/client-work.js';
import { strategyForRule, type AggregationRule } from '../federated/robust.js';
import type { GlobalUpdate } from '../federated/types.js';
import { clientOptimizerOf, effectiveBatch, parseTrainConfig, planWeightCap, recencyOf, serverOptimizerOf } from '../config/config.js';
import { loadConfiguredDataset, modelConfigOf, splitDataset } from '../recipes/experiment.js';
import { partitionClients } from '../federated/partition.js';
import { FederatedSimulation, initGlobal } from '../simulation/simulation.js';
import { ml100kPath } from './util.js';

export type AttackKind = 'none' | 'scaled' | 'weight' | 'nonfinite' | 'signflip' | 'targeted' | 'flip' | 'signflip-emb' | 'signflip-bias';
export const ATTACKS: readonly AttackKind[] = ['scaled', 'weight', 'nonfinite', 'signflip', 'targeted'];
const DIAGNOSTIC_KINDS: readonly AttackKind[] = ['flip', 'signflip-emb', 'signflip-bias'];

const map = (tables: { readonly [n: string]: Float32Array }, f: (v: number) => number) =>
  Object.fromEntries(Object.entries(tables).map(([n, t]) => [n, t.map(f)]));
/** The honest update with every value × `factor`. */
const times = (honest: GlobalUpdate, factor: number): GlobalUpdate =>
  ({ ...honest, itemTables: map(honest.itemTables, (v) => v * factor), denseTables: map(honest.denseTables, (v) => v * factor) });

/** The most popular direction an attacker can read off the global tables: mean embedding of the 20 items of highest bias. */
function popularDirection(global: GlobalParams, dim: number): Float32Array {
  const bias = global.itemBias;
  const top = Array.from(bias.keys()).sort((a, b) => bias[b] - bias[a]).slice(0, 20);
  const out = new Float32Array(dim);
  for (const i of top) for (let f = 0; f < dim; f++) out[f] += global.itemEmb[i * dim + f] / top.length;
  return out;
}

/** An attacker's update for `kind`, from the honest update it would have sent and the global tables it received. */
export function craftUpdate(kind: AttackKind, honest: GlobalUpdate, global: GlobalParams, nItems: number, target: number): GlobalUpdate {
  switch (kind) {
    case 'none':
      return honest;
    case 'scaled':
      return times(honest, 1e30);
    case 'nonfinite':
      return { ...honest, itemTables: map(honest.itemTables, () => Number.NaN), denseTables: map(honest.denseTables, () => Number.NaN) };
    case 'signflip':
      return times(honest, -100);
    case 'flip':
      return times(honest, -1);
    case 'signflip-emb':
    case 'signflip-bias': {
      const table = kind === 'signflip-emb' ? 'itemEmb' : 'itemBias';
      return { ...honest, itemTables: { ...honest.itemTables, [table]: honest.itemTables[table].map((v) => -100 * v) } };
    }
    case 'weight': {
      const rows = Int32Array.from({ length: nItems }, (_, i) => i);
      const itemTables = Object.fromEntries(Object.entries(honest.itemTables).map(([n, t]) => [n, new Float32Array((t.length / Math.max(1, honest.rows.length)) * nItems).fill(1)]));
      return { ...honest, weight: 1e6, rows, itemTables, denseTables: map(honest.denseTables, () => 1) };
    }
    case 'targeted': {
      const dim = global.itemEmb.length / nItems;
      const p = popularDirection(global, dim);
      const emb = Float32Array.from(p, (v, f) => 10 * (v - global.itemEmb[target * dim + f]));
      return {
        ...honest,
        weight: 1e6,
        rows: Int32Array.from([target]),
        itemTables: { itemEmb: emb, itemBias: Float32Array.from([10]) },
        denseTables: map(honest.denseTables, () => 0),
      };
    }
  }
}

/** An unpopular item (the 75th percentile of train popularity, fewest first), fixed by the split. */
export function targetItem(split: ImplicitSplit): number {
  const count = new Int32Array(split.nItems);
  for (let u = 0; u < split.nUsers; u++) for (const i of rowOf(split.train, u)) count[i]++;
  const seen = Array.from(count.keys()).filter((i) => count[i] > 0).sort((a, b) => count[a] - count[b] || a - b);
  return seen[Math.floor(seen.length * 0.25)];
}

export interface AttackResult {
  readonly honestHr10: number;
  /** The same on validation (what a default is chosen on). */
  readonly honestValHr10: number;
  /** Share of honest users with the target item in their full-ranking top 10 (unseen items). */
  readonly targetHitRate: number;
  readonly attackers: number;
  readonly clients: number;
  /** Without attack: the same model scored on the honest users of each attacked run (`compareFractions`). */
  readonly sameUsers?: readonly { readonly fraction: number; readonly attackers: number; readonly honestValHr10: number; readonly honestHr10: number }[];
}

export interface AttackRun {
  readonly rule: AggregationRule;
  readonly kind: AttackKind;
  readonly fraction: number;
  readonly rounds: number;
  readonly usersPerClient?: number;
  /** Run-config fields besides the defaults (e.g. { adaptiveClip: 0 }). */
  readonly config?: Record<string, unknown>;
  /** With kind 'none': also score the model on the honest users of runs with these attacker fractions. */
  readonly compareFractions?: readonly number[];
}

export async function runAttack(data: string | undefined, run: AttackRun): Promise<AttackResult> {
  const c = parseTrainConfig({ ...(data ? { data } : {}), ...run.config, rounds: run.rounds, ...(run.usersPerClient ? { usersPerClient: run.usersPerClient } : {}), aggregation: run.rule, eval: ['sampled'], k: [10] });
  const split = splitDataset(await loadConfiguredDataset(c), c.split, c.seed);
  const clients = partitionClients(split, c.usersPerClient, c.seed);
  const order = Rng.derive(c.seed, 'attackers').shuffle(Int32Array.from(clients.keys()));
  const attackersAt = (fraction: number): Set<number> => new Set(order.subarray(0, fraction > 0 ? Math.max(1, Math.round(fraction * clients.length)) : 0));
  const attackers = attackersAt(run.fraction);
  const nAttackers = attackers.size;
  const target = targetItem(split);
  const model = modelConfigOf(c);
  const global = initGlobal(model, split.nItems, c.seed);
  const options = { weightCap: planWeightCap(c, split.nItems), serverOptimizer: serverOptimizerOf(c), rowAveraging: c.rowAveraging, clientWeighting: c.clientWeighting, clipNorm: c.clipNorm, adaptiveClip: c.adaptiveClip, trimFraction: c.trimFraction, rowShare: c.rowShare, rowSpread: c.rowSpread, centerItems: c.centerItems ?? false };
  const strategy = strategyForRule(c.aggregation, modelParamInfo(model, 0, split.nItems), split.nItems, options);
  const samplers = clients.map((client) => clientNegativeSource(split.nItems, client));
  const sim = new FederatedSimulation(clients, global, strategy, (plan, g, client, state) => {
    const honest = runClientRound(plan, g, client, state, samplers[client.clientId]);
    if (!attackers.has(client.clientId)) return honest;
    return { update: craftUpdate(run.kind, honest.update, g, split.nItems, target), state: honest.state };
  }, {
    rounds: c.rounds,
    clientsPerRound: clients.length,
    evalEvery: c.rounds + 1,
    seed: c.seed,
    plan: { model, loss: c.loss, localEpochs: c.localEpochs, batch: effectiveBatch(c), negatives: c.negatives, optimizer: clientOptimizerOf(c), recency: recencyOf(c) },
  });
  sim.run(() => ({}));
  const scorer = createModel(model, split.nUsers, split.nItems, { global, local: sim.assembleLocal(split.nUsers) });
  const honestOf = (bad: Set<number>) => Int32Array.from(clients.filter((cl) => !bad.has(cl.clientId)).flatMap((cl) => [...cl.users]));
  const hr10 = (part: 'test' | 'validation', users: Int32Array) => evaluateRanking(scorer, split, { part, protocols: ['sampled'], ks: [10], users }).sampled?.['HR@10'] ?? Number.NaN;
  const honestUsers = honestOf(attackers);
  const sameUsers = run.kind === 'none' ? (run.compareFractions ?? []).map((fraction) => {
    const bad = attackersAt(fraction);
    const users = honestOf(bad);
    return { fraction, attackers: bad.size, honestValHr10: hr10('validation', users), honestHr10: hr10('test', users) };
  }) : undefined;
  return { honestHr10: hr10('test', honestUsers), honestValHr10: hr10('validation', honestUsers), targetHitRate: targetHits(scorer, split, honestUsers, target), attackers: nAttackers, clients: clients.length, sameUsers };
}

/** Share of `users` (who have not seen it) with `target` in their full-ranking top 10 over unseen items. */
export function targetHits(scorer: { scoreItems(u: number, items: Int32Array, out: Float32Array): void }, split: ImplicitSplit, users: Int32Array, target: number): number {
  const items = Int32Array.from({ length: split.nItems }, (_, i) => i);
  const scores = new Float32Array(split.nItems);
  let hits = 0;
  for (const u of users) {
    scorer.scoreItems(u, items, scores);
    const seen = rowOf(split.train, u);
    for (const i of seen) scores[i] = Number.NEGATIVE_INFINITY;
    if (seen.includes(target)) continue;
    const t = scores[target];
    let above = 0;
    for (let i = 0; i < scores.length && above < 10; i++) if (scores[i] > t) above++;
    if (above < 10) hits++;
  }
  return hits / users.length;
}

/** One attacked cell's cost against the no-attack model scored on the same honest users. */
interface Cost { readonly validation: number; readonly test: number }

export async function attacksBenchmark(): Promise<void> {
  const data = ml100kPath() ?? undefined;
  const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').filter((x) => x !== '');
  const rounds = Number(process.env.FEDREC_ATTACK_ROUNDS ?? 60);
  const rules = list('FEDREC_ATTACK_RULES', 'mean') as AggregationRule[];
  const kinds = list('FEDREC_ATTACK_KINDS', ['none', ...ATTACKS].join(',')) as AttackKind[];
  const fractions = list('FEDREC_ATTACK_FRACTIONS', '0.01,0.1').map(Number);
  const config = JSON.parse(process.env.FEDREC_ATTACK_CONFIG ?? '{}') as Record<string, unknown>;
  const seeds = list('FEDREC_ATTACK_SEEDS', '').map(Number);
  const known = new Set<string>(['none', ...ATTACKS, ...DIAGNOSTIC_KINDS]);
  const unknown = kinds.find((k) => !known.has(k));
  if (unknown !== undefined) throw new Error(`FEDREC_ATTACK_KINDS: unknown attack "${unknown}" (one of ${[...known].join(', ')})`);
  const badSeed = seeds.find((x) => !Number.isInteger(x));
  if (badSeed !== undefined) throw new Error(`FEDREC_ATTACK_SEEDS: "${badSeed}" is not an integer seed`);
  process.stdout.write(`ML-100K, FedAvg MF defaults${Object.keys(config).length ? ` + ${JSON.stringify(config)}` : ''} (one user per client, every client every round, uniform server weights, ` +
    `adaptive clip, item centring, row bound), ${rounds} rounds; honest clients' HR@10 (sampled), validation / test; targeted: the target item's hit rate in honest full top-10; ` +
    `cost: against the no-attack model scored on the same honest users\n`);
  process.stdout.write('| seed | rule | attack | attackers | validation HR@10 | test HR@10 | target hit rate | cost, validation / test |\n|---|---|---|---|---|---|---|---|\n');
  const costs = new Map<string, Cost[]>();
  for (const seed of seeds.length ? seeds : [undefined]) {
    const cellConfig = seed === undefined ? config : { ...config, seed };
    const shown = seed ?? (config.seed as number | undefined) ?? 'default';
    for (const rule of rules) {
      const baseline = new Map<number, { validation: number; test: number }>();
      for (const kind of kinds) {
        for (const fraction of kind === 'none' ? [0] : fractions) {
          const r = await runAttack(data, { rule, kind, fraction, rounds, config: cellConfig, compareFractions: fractions });
          const base = baseline.get(fraction);
          const cost = base ? { validation: r.honestValHr10 - base.validation, test: r.honestHr10 - base.test } : undefined;
          const costText = cost ? `${cost.validation.toFixed(4)} / ${cost.test.toFixed(4)}` : '';
          process.stdout.write(`| ${shown} | ${rule} | ${kind} | ${r.attackers} of ${r.clients} | ${r.honestValHr10.toFixed(4)} | ${r.honestHr10.toFixed(4)} | ${r.targetHitRate.toFixed(3)} | ${costText} |\n`);
          if (cost) {
            const key = `${rule} | ${kind} | ${fraction}`;
            costs.set(key, [...(costs.get(key) ?? []), cost]);
          }
          // the no-attack model on exactly the honest users of each attacked run: the like-for-like baseline
          for (const b of r.sameUsers ?? []) {
            baseline.set(b.fraction, { validation: b.honestValHr10, test: b.honestHr10 });
            process.stdout.write(`| ${shown} | ${rule} | none, scored on the honest users of the ${b.attackers}-attacker runs | 0 of ${r.clients} | ${b.honestValHr10.toFixed(4)} | ${b.honestHr10.toFixed(4)} | | |\n`);
          }
        }
      }
    }
  }
  if (seeds.length > 1 && costs.size) {
    process.stdout.write('\nCost over seeds (attacked minus no-attack on the same honest users; target: within 0.02)\n');
    process.stdout.write('| rule | attack | attacker fraction | seeds | mean validation / test | worst validation / test | cells beyond 0.02 |\n|---|---|---|---|---|---|---|\n');
    for (const [key, list] of costs) {
      const mean = (f: (c: Cost) => number) => list.reduce((a, c) => a + f(c), 0) / list.length;
      const worst = (f: (c: Cost) => number) => Math.min(...list.map(f));
      const beyond = list.filter((c) => c.validation < -0.02).length + list.filter((c) => c.test < -0.02).length;
      process.stdout.write(`| ${key} | ${list.length} | ${mean((c) => c.validation).toFixed(4)} / ${mean((c) => c.test).toFixed(4)} | ` +
        `${worst((c) => c.validation).toFixed(4)} / ${worst((c) => c.test).toFixed(4)} | ${beyond} of ${2 * list.length} |\n`);
    }
  }
}
