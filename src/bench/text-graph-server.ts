/**
 * text-graph-server: the server half of `engine`'s item 3c on its own — 6040 ML-1M-shaped uploads
 * through graph aggregation's `accept`, then `endRound` (UFGraphFR / GPFedRec, federated/graph.ts),
 * CPU seconds per round, peak RSS, and a SHA-256 over θ, every personal row and the exported state
 * (equal digests = bit-identical server results, e.g. across builds). Rounds after the first leave
 * a third of the users out. FEDREC_BENCH_NEIGHBORS (default 10,30), FEDREC_BENCH_ROUNDS (default 1).
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseTrainConfig } from '../config/config.js';
import { generateSynthetic } from '../data/synthetic.js';
import { leaveOneOut } from '../data/split.js';
import { rowOf } from '../data/user-items.js';
import type { UserItems } from '../data/types.js';
import { Rng } from '../math/rng.js';
import { headParamInfo, initTextGraphGlobal } from '../models/text-graph/model.js';
import { graphOptionsOf, textGraphConfigOf } from '../recipes/text-graph-experiment.js';
import { GraphAggregation } from '../federated/graph.js';
import type { GraphUpdate } from '../federated/personal-types.js';
import type { ParamInfo } from '../models/types.js';
import { uniqueSorted } from '../federated/compact.js';
import { userTexts } from '../text/user-text.js';
import { HashingEncoder } from '../text/hash.js';
import { peakRssMiB } from './util.js';

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function textGraphServerBenchmark(): Promise<void> {
  const ds = generateSynthetic({ users: 6040, items: 3706, interactions: 1_000_000, seed: 1 });
  const split = leaveOneOut(ds, { seed: 1 });
  const texts = await new HashingEncoder(512, 1).encode(userTexts(ds));
  const rounds = Number(process.env.FEDREC_BENCH_ROUNDS ?? 1);
  for (const neighbors of (process.env.FEDREC_BENCH_NEIGHBORS ?? '10,30').split(',').map(Number)) {
    const defaults = parseTrainConfig({ model: 'text-graph', algorithm: 'graph', neighbors });
    const cfg = textGraphConfigOf(defaults, 512);
    const headInfo = headParamInfo(cfg);
    const global = initTextGraphGlobal(cfg, split.nItems, new Rng(1));
    const strategy = new GraphAggregation(global, split.nUsers, split.nItems, cfg.textDim * cfg.dim, headInfo, { ...graphOptionsOf(defaults), seed: 1 });
    const rng = new Rng(2);
    for (let round = 1; round <= rounds; round++) {
      strategy.beginRound(round);
      let accept = 0;
      for (let u = 0; u < split.nUsers; u++) {
        if (round > 1 && u % 3 === round % 3) continue;
        const update = syntheticGraphUpload(round, u, { cfg, headInfo, texts, train: split.train, nItems: split.nItems, item: global.item }, rng);
        const c = cpuNow();
        strategy.accept(update);
        accept += cpuNow() - c;
      }
      const c = cpuNow();
      strategy.endRound(global);
      const end = cpuNow() - c;
      process.stdout.write(`${neighbors} neighbours, round ${round}: accept ${accept.toFixed(2)} s + endRound ${end.toFixed(2)} s CPU = ${(accept + end).toFixed(2)} s (load ${loadavg()[0].toFixed(1)})\n`);
    }
    const rss = peakRssMiB(); // before the digest, which copies the state
    const h = createHash('sha256');
    const bytes = (a: Float32Array | Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    h.update(bytes(global.item));
    for (let u = 0; u < split.nUsers; u++) {
      const p = strategy.personal(u);
      if (p) h.update(bytes(p.rows)).update(bytes(p.delta));
    }
    for (const [key, t] of Object.entries(strategy.exportState().tables).sort((a, b) => (a[0] < b[0] ? -1 : 1))) h.update(key).update(bytes(t));
    process.stdout.write(`${neighbors} neighbours: digest ${h.digest('hex').slice(0, 16)}; peak RSS ${rss.toFixed(0)} MiB\n`);
  }
}

/** What `syntheticGraphUpload` needs: the model's shapes, the users' texts and positives, θ. */
export interface GraphUploadSource {
  readonly cfg: { readonly dim: number; readonly textDim: number };
  readonly headInfo: readonly ParamInfo[];
  readonly texts: readonly Float32Array[];
  readonly train: UserItems;
  readonly nItems: number;
  readonly item: Float32Array;
}

/**
 * The upload of a trained text-graph client as the benches build it: W_u ≈ v_u ⊗ g_u (its text
 * times a random direction), rows = its positives + 4 random items each, item rows near θ.
 */
export function syntheticGraphUpload(round: number, u: number, src: GraphUploadSource, rng: Rng): GraphUpdate {
  const { dim, textDim } = src.cfg;
  const g = Float32Array.from({ length: dim }, () => rng.normal());
  const weightVector = new Float32Array(textDim * dim);
  for (let t = 0; t < textDim; t++) for (let f = 0; f < dim; f++) weightVector[t * dim + f] = src.texts[u][t] * g[f] * 0.01;
  const pos = rowOf(src.train, u);
  const rows = uniqueSorted([pos, Int32Array.from({ length: 4 * pos.length }, () => rng.int(src.nItems))]);
  const itemRows = new Float32Array(rows.length * dim);
  for (let k = 0; k < rows.length; k++) for (let f = 0; f < dim; f++) itemRows[k * dim + f] = src.item[rows[k] * dim + f] + 0.01 * rng.normal();
  const denseTables = Object.fromEntries(src.headInfo.map((p) => [p.name, new Float32Array(p.rows * p.cols)]));
  return { round, weight: rows.length, rows: new Int32Array(0), itemTables: {}, denseTables, loss: 0, users: [{ user: u, weightVector, rows, itemRows, weight: rows.length }] };
}
