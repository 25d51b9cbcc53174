/**
 * `fedrec train`: flags → validated config → run → progress on stderr (TTY only), a summary table,
 * the result JSON (stdout with --json, a file with --out), an optional saved model (--save).
 */
import { renameSync, writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { parseTrainConfig } from '../runtime/config.js';
import { runTraining, type TrainedRun } from '../runtime/experiment.js';
import { saveModelFile } from '../runtime/model-file.js';
import { rowOf } from '../data/user-items.js';
import { runFedReconTraining } from '../runtime/fedrecon-experiment.js';
import { runTextGraphTraining } from '../runtime/text-graph-experiment.js';
import { flagHelp, parseFlags, UsageError, type FlagSpec } from './flags.js';
import { summaryTable } from './summary.js';
import type { HistoryEntry } from '../runtime/types.js';

export const TRAIN_FLAGS: Record<string, FlagSpec> = {
  data: { key: 'data', kind: 'string', help: 'MovieLens folder, ratings file or CSV/TSV (default: built-in synthetic data)' },
  format: { key: 'format', kind: 'string', help: 'auto | ml-100k | ml-1m | csv' },
  columns: { key: 'columns', kind: 'list', help: 'column roles for CSV/TSV, e.g. user,item,rating,timestamp' },
  sep: { key: 'sep', kind: 'string', help: 'field separator for CSV/TSV' },
  'rating-threshold': { key: 'ratingThreshold', kind: 'number', help: 'keep interactions with rating ≥ X as positives' },
  split: { key: 'split', kind: 'string', help: "loo (leave-one-out by time) | ratio:0.8,0.1,0.1" },
  model: { key: 'model', kind: 'string', help: 'mf | neumf | lightgcn | ncl | text-graph' },
  dim: { key: 'dim', kind: 'integer', help: 'embedding width (default 32)' },
  layers: { key: 'layers', kind: 'numberList', help: "MLP widths of the NeuMF tower or the text-graph head (default 32,16,8; 'none': text-graph head without hidden layers)" },
  'gcn-layers': { key: 'gcnLayers', kind: 'integer', help: 'LightGCN/NCL propagation layers L (default 3)' },
  'reg-weight': { key: 'regWeight', kind: 'number', help: 'LightGCN/NCL L2 on the batch\'s layer-0 rows (default 1e-4)' },
  'ssl-temp': { key: 'sslTemp', kind: 'number', help: 'NCL contrastive temperature (default 0.1)' },
  'ssl-reg': { key: 'sslReg', kind: 'number', help: 'NCL structural-contrast weight (default 1e-6 central, 1e-7 federated)' },
  'ssl-alpha': { key: 'sslAlpha', kind: 'number', help: 'NCL weight of the item structural term (default 1)' },
  'proto-reg': { key: 'protoReg', kind: 'number', help: 'NCL prototype-contrast weight (default 1e-7)' },
  'hyper-layers': { key: 'hyperLayers', kind: 'integer', help: 'NCL: structural contrast on layer 2k (default 1)' },
  clusters: { key: 'clusters', kind: 'integer', help: 'NCL k-means prototypes per side (default 100)' },
  'kmeans-iterations': { key: 'kmeansIterations', kind: 'integer', help: 'NCL k-means iterations per E-step (default 10)' },
  'warm-up': { key: 'warmUp', kind: 'integer', help: 'NCL epochs/rounds before the prototype term starts (default 20)' },
  mode: { key: 'mode', kind: 'string', help: 'central | federated (default federated)' },
  algorithm: { key: 'algorithm', kind: 'string', help: 'fedavg | fedrecon (Federated Reconstruction: stateless clients, unseen evaluation users) | graph (text-graph aggregation; the default for --model text-graph)' },
  feedback: { key: 'feedback', kind: 'string', help: 'implicit | explicit (ratings, MSE; fedrecon only; fedrecon default explicit)' },
  loss: { key: 'loss', kind: 'string', help: 'bce | bpr' },
  rounds: { key: 'rounds', kind: 'integer', help: 'federated rounds (default 60)' },
  epochs: { key: 'epochs', kind: 'integer', help: 'centralised epochs (default 20)' },
  'clients-per-round': { key: 'clientsPerRound', kind: 'integer', help: 'clients sampled per round (default all)' },
  fraction: { key: 'fraction', kind: 'number', help: 'fraction of clients sampled per round' },
  workers: { key: 'workers', kind: 'integer', help: 'worker threads for the FedAvg simulation (default 1; results match)' },
  'users-per-client': { key: 'usersPerClient', kind: 'integer', help: 'users held by one client (default 1)' },
  'local-epochs': { key: 'localEpochs', kind: 'integer', help: 'client epochs per round (default 2)' },
  'recency-window': { key: 'recencyWindow', kind: 'integer', help: "each user's N latest train interactions are weighted up (MF/NeuMF FedAvg and text-graph default 20; 0 = off)" },
  'recency-weight': { key: 'recencyWeight', kind: 'integer', help: 'how many times each of them counts (MF/NeuMF FedAvg and text-graph default 3; 1 = off)' },
  batch: { key: 'batch', kind: 'integer', help: 'minibatch size (default 256 central, 32 client)' },
  lr: { key: 'lr', kind: 'number', help: 'learning rate (default 0.002 central, 0.01 client)' },
  optimizer: { key: 'optimizer', kind: 'string', help: 'sgd | adam (client / central optimiser)' },
  l2: { key: 'l2', kind: 'number', help: 'L2 weight decay on touched rows' },
  'server-lr': { key: 'serverLr', kind: 'number', help: 'server learning rate (default 1)' },
  'server-momentum': { key: 'serverMomentum', kind: 'number', help: 'server momentum (FedAvgM)' },
  'server-optimizer': { key: 'serverOptimizer', kind: 'string', help: 'sgd | adam: server optimiser applying the averaged update (default sgd)' },
  'row-averaging': { key: 'rowAveraging', kind: 'string', help: 'touched | all: average item rows over clients that touched them, or all' },
  negatives: { key: 'negatives', kind: 'integer', help: 'training negatives per positive, renewed every epoch (default 4)' },
  eval: { key: 'eval', kind: 'list', help: 'sampled,full' },
  k: { key: 'k', kind: 'numberList', help: 'cut-offs, e.g. 10,20' },
  'eval-every': { key: 'evalEvery', kind: 'integer', help: 'validate every N rounds/epochs' },
  select: { key: 'select', kind: 'string', help: 'best | last: report the round/epoch with the best validation NDCG, or the last (default best)' },
  seed: { key: 'seed', kind: 'integer', help: 'random seed (default 42)' },
  'user-split': { key: 'userSplit', kind: 'fractionList', help: 'fedrecon: train,validation,test user fractions (default 0.8,0.1,0.1)' },
  'recon-split': { key: 'reconSplit', kind: 'string', help: 'fedrecon training: alternate | reuse (all data for both phases); evaluation always disjoint' },
  'recon-optimizer': { key: 'reconOptimizer', kind: 'string', help: 'fedrecon: sgd | adam for reconstructing user tables (default sgd)' },
  'recon-lr': { key: 'reconLr', kind: 'number', help: 'fedrecon: reconstruction learning rate' },
  'recon-epochs': { key: 'reconEpochs', kind: 'integer', help: 'fedrecon: reconstruction epochs' },
  'recon-steps-max': { key: 'reconStepsMax', kind: 'integer', help: 'fedrecon: most reconstruction steps (0 = no cap)' },
  'post-recon-steps-max': { key: 'postReconStepsMax', kind: 'integer', help: 'fedrecon: most post-reconstruction steps (0 = no cap)' },
  'client-weighting': { key: 'clientWeighting', kind: 'string', help: 'federated: uniform (default) | examples: the weight the server gives each client update' },
  aggregation: { key: 'aggregation', kind: 'string', help: 'federated: mean (default) | median | trimmed-mean | norm-bounded server aggregation rule' },
  'trim-fraction': { key: 'trimFraction', kind: 'number', help: 'trimmed-mean: fraction dropped at each end per coordinate (default 0.1)' },
  'clip-norm': { key: 'clipNorm', kind: 'number', help: 'federated: L2 bound each client update is clipped to by the server (default 10; 0 = none)' },
  encoder: { key: 'encoder', kind: 'string', help: 'text-graph: use (offline Universal Sentence Encoder, default) | transformers | hash' },
  'encoder-model': { key: 'encoderModel', kind: 'string', help: 'text-graph, --encoder transformers: hub id or local model dir (default Xenova/all-MiniLM-L6-v2)' },
  'cache-dir': { key: 'cacheDir', kind: 'string', help: 'text-graph: cache for embeddings and models (default $FEDREC_CACHE or ~/.cache/fedrec)' },
  'user-text': { key: 'userText', kind: 'string', help: 'text-graph: CSV of user,text (default: template from u.user / users.dat)' },
  'text-ablation': { key: 'textAblation', kind: 'string', help: 'text-graph: none | shuffle (texts permuted among users) | random (random vectors)' },
  neighbors: { key: 'neighbors', kind: 'integer', help: 'graph: top-N most similar users per user (default 10)' },
  'graph-layers': { key: 'graphLayers', kind: 'integer', help: 'graph: propagation layers L of R = S\'\'·A (default 1; --layers is the MLP widths)' },
  lambda: { key: 'lambda', kind: 'number', help: 'text-graph: weight of λ·mean‖Q_u − R_u‖² (default 0.1)' },
  'recent-items': { key: 'recentItems', kind: 'integer', help: 'text-graph: e_u adds the mean item vector of the user\'s K latest train positives (0 = off, the paper\'s e_u)' },
  'test-history': { key: 'testHistory', kind: 'string', help: 'text-graph, leave-one-out by time: the recent items test reads: train+validation (the validation item is the latest; default) | train' },
  head: { key: 'head', kind: 'string', help: "text-graph: mlp+dot (MLP([e_u, q_i]) plus e_u·q_i, a GMF branch; default) | mlp (the paper's head)" },
  norm: { key: 'norm', kind: 'string', help: 'graph: row | sym normalisation of the user graph (default row)' },
  'no-self-loop': { key: 'noSelfLoop', kind: 'boolean', help: 'graph: leave a user out of its own neighbourhood' },
  'dp-laplace': { key: 'dpLaplace', kind: 'number', help: 'graph: Laplace noise scale on uploaded vec(W_u) (default 0 = off)' },
  'sketch-dim': { key: 'sketchDim', kind: 'integer', help: 'graph: random-projection width for similarities, 0 = exact (default 128)' },
  'personal-rows': { key: 'personalRows', kind: 'string', help: "graph: rows of R_u kept per user: own (trained rows, default) | union (plus the neighbours' rows)" },
  'synthetic-users': { key: 'syntheticUsers', kind: 'integer', help: 'synthetic data: users (default 943)' },
  'synthetic-items': { key: 'syntheticItems', kind: 'integer', help: 'synthetic data: items (default 1682)' },
  'synthetic-interactions': { key: 'syntheticInteractions', kind: 'integer', help: 'synthetic data: interactions (default 100000)' },
  json: { key: 'json', kind: 'boolean', help: 'print only the result JSON to stdout' },
  out: { key: 'out', kind: 'string', help: 'write the result JSON to this file' },
  save: { key: 'save', kind: 'string', help: 'save the trained model to this file' },
};

export function trainHelp(): string {
  return `usage: fedrec train [flags]\n\n${flagHelp(TRAIN_FLAGS)}`;
}

export async function trainCommand(argv: readonly string[]): Promise<number> {
  const { json, out, save, noSelfLoop, ...raw } = parseFlags(argv, TRAIN_FLAGS) as Record<string, unknown> & { json?: boolean; out?: string; save?: string; noSelfLoop?: boolean };
  const config = parseTrainConfig(noSelfLoop ? { ...raw, selfLoop: false } : raw);
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: ' {bar} {value}/{total} | loss {loss} | {info}', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  let started = false;
  const onProgress = (entry: HistoryEntry, total: number) => {
    const hr = entry.validation.sampled?.[`HR@${config.k[0]}`];
    const rmse = entry.validation.explicit?.rmse;
    const info = hr !== undefined ? `val HR@${config.k[0]} ${hr.toFixed(4)}` : rmse !== undefined ? `val RMSE ${rmse.toFixed(4)}` : '';
    if (!bar) return;
    if (!started) {
      bar.start(total, 0, { loss: '-', info: '' });
      started = true;
    }
    bar.update(entry.round, { loss: entry.loss.toFixed(4), info });
  };
  if (save && config.model === 'text-graph') {
    throw new UsageError('--save: text-graph models are personalised per user (joint layer and item rows on each device); saving them is not supported');
  }
  if (save && config.algorithm === 'fedrecon') {
    throw new UsageError('--save: FedRecon keeps no user embeddings to save (each user reconstructs its own on its device)');
  }
  const run = config.model === 'text-graph'
    ? await runTextGraphTraining(config, onProgress)
    : config.algorithm === 'fedrecon' ? await runFedReconTraining(config, onProgress) : await runTraining(config, onProgress);
  bar?.stop();
  const doc = run.result;
  if (out) {
    const tmp = `${out}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n');
    renameSync(tmp, out);
  }
  if (save && 'model' in run) {
    const { dataset, split, model } = run as TrainedRun;
    const titles = dataset.side.items ? dataset.itemIds.map((id) => dataset.side.items?.get(id)?.title ?? '') : undefined;
    saveModelFile(save, model, {
      userIds: dataset.userIds,
      itemIds: dataset.itemIds,
      itemTitles: titles,
      seen: Array.from({ length: split.nUsers }, (_, u) => Array.from(rowOf(split.train, u))),
    });
  }
  if (json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  else process.stdout.write(summaryTable(doc) + '\n');
  return 0;
}
