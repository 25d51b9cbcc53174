/**
 * `npm run bench -- privacy --secure-dp`: what an honest-but-curious coordinator sees of a round of
 * distributed DP-FedAvg (McMahan et al. ICLR 2018; Kairouz et al. ICML 2021 for the composition),
 * with and without secure aggregation (Bonawitz et al. CCS 2017; SecAgg+, Bell et al. CCS 2020).
 * ML-100K, one user per client, the first 100 clients, round 1 of the default MF config; each device
 * clips its update to C and adds N(0, z²C²/m) (m = 100) to every entry:
 *  - distributed DP alone: the coordinator stores each noised update — a device's share of the
 *    noise is small (σ = zC/√m), so the item-guessing attack of bench/privacy.ts still works;
 *  - with secure aggregation: it sees only masked vectors (chance AUC) and the noised sum.
 * Prints one JSON line per setting with the attack AUC and, for the secure one, ε of one round
 * charged at z·√τ (τ the threshold; q = 1, δ 1e-5) beside ε at z.
 */
import { clientNegativeSource, runClientRound } from '../federated/client-work.js';
import type { RoundPlan } from '../federated/types.js';
import { modelParamInfo } from '../models/registry.js';
import { partitionClients } from '../federated/partition.js';
import { clientOptimizerOf, effectiveBatch, parseTrainConfig, recencyOf } from '../config/config.js';
import { loadConfiguredDataset, modelConfigOf, splitDataset } from '../recipes/experiment.js';
import { hashRoundSeed, initGlobal } from '../simulation/simulation.js';
import { accountedNoiseMultiplier, privatizeOnDevice, privatizedValueBound, type DpClientPlan } from '../privacy/dp-fedavg.js';
import { gaussianFor } from '../privacy/noise.js';
import { epsilonOf } from '../privacy/rdp-accountant.js';
import { decodeSum, encodeUpdate, tableSlots, vectorLength, type Encoding } from '../secagg/fixed-point.js';
import { shareThreshold } from '../secagg/graph.js';
import { runLocalRound } from '../secagg/local-round.js';
import { DEFAULT_CLIP } from '../secagg/settings.js';
import { auc, maskedScores } from './privacy.js';
import { ml100kPath } from './util.js';

const CLIENTS = 100;
const CLIP = 0.5;
const Z = 1;
const THRESHOLD = 0.6;
const NEIGHBOURS = 32;
const DELTA = 1e-5;

const line = (v: unknown): void => void process.stdout.write(JSON.stringify(v) + '\n');
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

export async function secureDpBenchmark(): Promise<void> {
  const path = ml100kPath();
  const c = parseTrainConfig({ ...(path ? { data: path } : {}), mode: 'federated', usersPerClient: 1 });
  const dataset = await loadConfiguredDataset(c);
  const split = splitDataset(dataset, c.split, c.seed);
  const config = modelConfigOf(c);
  const clients = partitionClients(split, 1, c.seed).slice(0, CLIENTS);
  const info = modelParamInfo(config, 0, split.nItems).filter((p) => p.scope === 'global');
  const global = initGlobal(config, split.nItems, c.seed);
  const plan: RoundPlan = {
    round: 1, model: config, loss: c.loss, localEpochs: c.localEpochs, batch: effectiveBatch(c), negatives: c.negatives,
    optimizer: clientOptimizerOf(c), recency: recencyOf(c), seed: hashRoundSeed(c.seed, 1),
  };
  const dp: DpClientPlan = { mode: 'distributed', clip: CLIP, noiseStd: (Z * CLIP) / Math.sqrt(CLIENTS), noise: 'secure' };
  const noised = clients.map((cl) => privatizeOnDevice(runClientRound(plan, global, cl, null, clientNegativeSource(split.nItems, cl)).update, dp, global, split.nItems, gaussianFor('secure', 0)));
  const positives = clients.map((cl) => new Set(cl.positives[0]));
  const enc: Encoding = { tables: tableSlots(info), nItems: split.nItems, participants: CLIENTS, clip: DEFAULT_CLIP, weighting: 'uniform' };
  const encoded = noised.map((u) => encodeUpdate(enc, u));
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  // distributed DP alone: the coordinator reads each device's noised update (here, its exact encoding)
  const clear = mean(clients.map((_, k) => auc(maskedScores(encoded[k].vector, enc), positives[k])));
  line({ setting: 'distributed-dp', dataset: dataset.name, clients: CLIENTS, clip: CLIP, noiseMultiplier: Z, deviceNoiseStd: dp.noiseStd, attackAuc: round4(clear) });
  const minSurvivors = Math.ceil(THRESHOLD * CLIENTS);
  const settings = { round: 1, threshold: shareThreshold(THRESHOLD, CLIENTS, NEIGHBOURS), neighbours: NEIGHBOURS, vectorLength: vectorLength(enc), minSurvivors };
  const r = await runLocalRound(settings, new Map(clients.map((cl, k) => [cl.clientId, encoded[k].vector])));
  const masked = mean(clients.map((cl, k) => auc(maskedScores(r.masked.get(cl.clientId) as Uint32Array, enc), positives[k])));
  const charged = accountedNoiseMultiplier({ noiseMultiplier: Z, mode: 'distributed', minFraction: THRESHOLD });
  line({
    setting: 'secure+distributed-dp', dataset: dataset.name, clients: CLIENTS, protocol: `SecAgg+ k=${NEIGHBOURS}`, minSurvivors, attackAuc: round4(masked),
    clippedValues: encoded.reduce((s, e) => s + e.clipped, 0), valueBound: privatizedValueBound(dp), fixedPointClip: DEFAULT_CLIP,
    contributors: decodeSum(enc, r.sum as Uint32Array).clients,
    accountedNoiseMultiplier: round4(charged),
    epsilonOneRound: round4(epsilonOf({ samplingRate: 1, noiseMultiplier: charged, rounds: 1, delta: DELTA }).epsilon),
    epsilonOneRoundAtZ: round4(epsilonOf({ samplingRate: 1, noiseMultiplier: Z, rounds: 1, delta: DELTA }).epsilon),
    delta: DELTA,
  });
  process.stdout.write(`coordinator's attack AUC under distributed DP: alone ${clear.toFixed(3)}, with secure aggregation ${masked.toFixed(3)} (chance 0.5)\n`);
}
