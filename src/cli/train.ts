/**
 * `fedrec train`: flags (over an optional --config file) → validated config → output paths checked
 * → run with progress on stderr → a summary table, the result JSON (stdout with --json, a file with
 * --out), an optional saved model (--save). `--help` shows the effective defaults of the chosen
 * model/algorithm/mode (train-help.ts).
 */
import { basename } from 'node:path';
import { rowOf } from '../data/user-items.js';
import type { TrainConfig } from '../config/config.js';
import { encodeModelFile } from '../models/model-file.js';
import { runConfiguredTraining, type RunOutcome } from '../recipes/run.js';
import { HelpRequest, parseFlags, suggestion, UsageError, type FlagSpec } from './flags.js';
import { prepareOutput, writeOutput } from './output.js';
import { startProgress } from './progress.js';
import { readRunConfig } from './run-config.js';
import { summaryTable } from './summary.js';
import { resolveTrainConfig, withNegations } from './train-config.js';
import { trainHelp } from './train-help.js';
import { ALGORITHMS } from '../algorithms/registry.js';
import { MODELS } from '../models/registry.js';

const ALGORITHM_FLAGS: Record<string, FlagSpec> = Object.assign({}, ...ALGORITHMS.map((a) => a.flags));

export const TRAIN_FLAGS: Record<string, FlagSpec> = {
  data: { key: 'data', kind: 'string', help: 'MovieLens folder, ratings file or CSV/TSV (none given: built-in synthetic data)' },
  'split-files': { key: 'splitFiles', kind: 'string', help: 'train and evaluate on a split folder: fedrec split output (train.tsv, test.tsv, …) or NCF files (NAME.train.rating, NAME.test.rating, NAME.test.negative)' },
  format: { key: 'format', kind: 'string', help: 'auto | ml-100k | ml-1m | csv' },
  columns: { key: 'columns', kind: 'list', help: 'column roles for CSV/TSV, e.g. user,item,rating,timestamp' },
  sep: { key: 'sep', kind: 'string', help: 'field separator for CSV/TSV' },
  'rating-threshold': { key: 'ratingThreshold', kind: 'number', help: 'keep interactions with rating ≥ X as positives' },
  split: { key: 'split', kind: 'string', help: "loo (leave-one-out by time) | ratio:0.8,0.1,0.1" },
  model: { key: 'model', kind: 'string', help: MODELS.map((m) => `${m.name} (${m.summary})`).join(' | ') },
  dim: { key: 'dim', kind: 'integer', help: 'embedding width' },
  layers: { key: 'layers', kind: 'numberList', help: "MLP widths of the NeuMF tower or the text-graph head ('none': text-graph head without hidden layers)" },
  'gcn-layers': { key: 'gcnLayers', kind: 'integer', help: 'LightGCN/NCL propagation layers L' },
  'reg-weight': { key: 'regWeight', kind: 'number', help: 'LightGCN/NCL L2 on the batch\'s layer-0 rows' },
  'ssl-temp': { key: 'sslTemp', kind: 'number', help: 'NCL contrastive temperature' },
  'ssl-reg': { key: 'sslReg', kind: 'number', help: 'NCL structural-contrast weight' },
  'ssl-alpha': { key: 'sslAlpha', kind: 'number', help: 'NCL weight of the item structural term' },
  'proto-reg': { key: 'protoReg', kind: 'number', help: 'NCL prototype-contrast weight' },
  'hyper-layers': { key: 'hyperLayers', kind: 'integer', help: 'NCL: structural contrast on layer 2k' },
  clusters: { key: 'clusters', kind: 'integer', help: 'NCL k-means prototypes per side' },
  'kmeans-iterations': { key: 'kmeansIterations', kind: 'integer', help: 'NCL k-means iterations per E-step' },
  'warm-up': { key: 'warmUp', kind: 'integer', help: 'NCL epochs/rounds before the prototype term starts' },
  mode: { key: 'mode', kind: 'string', help: 'central | federated' },
  algorithm: { key: 'algorithm', kind: 'string', help: ALGORITHMS.filter((a) => !('variantOf' in a)).map((a) => `${a.name} (${a.summary})`).join(' | ') },
  feedback: { key: 'feedback', kind: 'string', help: 'implicit | explicit (ratings, MSE; fedrecon only)' },
  loss: { key: 'loss', kind: 'string', help: 'bce | bpr | softmax (sampled softmax over each positive and its --negatives)' },
  rounds: { key: 'rounds', kind: 'integer', help: 'federated rounds' },
  epochs: { key: 'epochs', kind: 'integer', help: 'centralised epochs' },
  'clients-per-round': { key: 'clientsPerRound', kind: 'integer', help: 'clients sampled per round (none given: every client)' },
  fraction: { key: 'fraction', kind: 'number', help: 'fraction of clients sampled per round' },
  workers: { key: 'workers', kind: 'integer', help: 'worker threads for the FedAvg simulation (results match)' },
  'users-per-client': { key: 'usersPerClient', kind: 'integer', help: 'users held by one client' },
  'local-epochs': { key: 'localEpochs', kind: 'integer', help: 'client epochs per round' },
  'recency-window': { key: 'recencyWindow', kind: 'integer', help: "each user's N latest train interactions are weighted up (0 = off)" },
  'recency-weight': { key: 'recencyWeight', kind: 'integer', help: 'how many times each of them counts (1 = off)' },
  batch: { key: 'batch', kind: 'integer', help: 'minibatch size (client or central)' },
  lr: { key: 'lr', kind: 'number', help: 'learning rate (client or central)' },
  optimizer: { key: 'optimizer', kind: 'string', help: 'sgd | adam (client / central optimiser)' },
  l2: { key: 'l2', kind: 'number', help: 'L2 weight decay on touched rows' },
  'unobserved-weight': { key: 'unobservedWeight', kind: 'number', help: 'iALS: weight α₀ of every unobserved (user, item) pair' },
  'reg-exponent': { key: 'regExponent', kind: 'number', help: 'iALS: exponent ν of the frequency-scaled regularisation l2·(count + α₀·total)^ν' },
  download: { key: 'download', kind: 'string', help: 'model download precision: f32 | f16 | q8 (8-bit, a scale per row); item embeddings only' },
  'server-lr': { key: 'serverLr', kind: 'number', help: 'server learning rate' },
  'server-momentum': { key: 'serverMomentum', kind: 'number', help: 'server momentum (FedAvgM)' },
  'server-optimizer': { key: 'serverOptimizer', kind: 'string', help: 'sgd | adam: server optimiser applying the averaged update' },
  'row-averaging': { key: 'rowAveraging', kind: 'string', help: 'touched | all: average item rows over clients that touched them, or all' },
  negatives: { key: 'negatives', kind: 'integer', help: 'training negatives per positive, renewed every epoch' },
  eval: { key: 'eval', kind: 'list', help: 'sampled,full' },
  k: { key: 'k', kind: 'numberList', help: 'cut-offs, e.g. 10,20' },
  'eval-every': { key: 'evalEvery', kind: 'integer', help: 'validate every N rounds/epochs' },
  select: { key: 'select', kind: 'string', help: 'best | last: report the round/epoch with the best validation NDCG, or the last' },
  seed: { key: 'seed', kind: 'integer', help: 'random seed' },
  ...ALGORITHM_FLAGS, // each registered algorithm's own flags (src/algorithms/<name>.ts)
  'client-weighting': { key: 'clientWeighting', kind: 'string', help: 'federated: uniform | examples: the weight the server gives each client update' },
  aggregation: { key: 'aggregation', kind: 'string', help: 'federated: mean | median | trimmed-mean | norm-bounded server aggregation rule' },
  'trim-fraction': { key: 'trimFraction', kind: 'number', help: 'trimmed-mean: fraction dropped at each end per coordinate' },
  'clip-norm': { key: 'clipNorm', kind: 'number', help: 'federated: L2 bound each client update is clipped to by the server (0 = none)' },
  'row-share': { key: 'rowShare', kind: 'number', help: 'federated: largest norm of one item row of an update, as a multiple of the round\'s clip bound (0 = none)' },
  'row-spread': { key: 'rowSpread', kind: 'number', help: 'federated: largest sum of an update\'s row norms (L2,1), as a multiple of the round\'s clip bound (0 = none)' },
  'no-center-items': { key: 'noCenterItems', kind: 'boolean', help: 'federated MF: do not centre the averaged item update (item centring, a defence against uniform pushes)' },
  'adaptive-clip': { key: 'adaptiveClip', kind: 'number', help: "federated: clip each update to this multiple of the previous round's median update norm, at most --clip-norm (0 = --clip-norm only)" },
  encoder: { key: 'encoder', kind: 'string', help: 'text-graph: use (offline Universal Sentence Encoder) | transformers (needs @huggingface/transformers installed) | hash' },
  'encoder-model': { key: 'encoderModel', kind: 'string', help: 'text-graph, --encoder transformers: hub id or local model dir (none given: Xenova/all-MiniLM-L6-v2)' },
  'cache-dir': { key: 'cacheDir', kind: 'string', help: 'text-graph: cache for embeddings and models (none given: $FEDREC_CACHE or ~/.cache/fedrec)' },
  'user-text': { key: 'userText', kind: 'string', help: 'text-graph: CSV of user,text (none given: a template from u.user / users.dat)' },
  'text-ablation': { key: 'textAblation', kind: 'string', help: 'text-graph: none | shuffle (texts permuted among users) | random (random vectors)' },
  lambda: { key: 'lambda', kind: 'number', help: 'graph (text-graph, mf): weight of λ·mean‖Q_u − R_u‖², the pull towards the personal table' },
  'recent-items': { key: 'recentItems', kind: 'integer', help: 'text-graph: e_u adds the mean item vector of the user\'s K latest train positives (0 = off, the paper\'s e_u)' },
  'test-history': { key: 'testHistory', kind: 'string', help: 'what test may read as history: train (every model) | train+validation (protocol option, leave-one-out by time; text-graph with recent items only, others refused)' },
  head: { key: 'head', kind: 'string', help: "text-graph: mlp+dot (MLP([e_u, q_i]) plus e_u·q_i, a GMF branch) | mlp (the paper's head)" },
  'dp-clip': { key: 'dpClip', kind: 'number', help: 'user-level DP (fedavg/fedrecon MF/NeuMF, federated LightGCN/NCL): clip norm C of a whole client update; Poisson sampling at rate --fraction' },
  'dp-noise-multiplier': { key: 'dpNoiseMultiplier', kind: 'number', help: 'DP: Gaussian noise std / C on the sum of updates (z; 0 = no noise, ε = ∞)' },
  'dp-mode': { key: 'dpMode', kind: 'string', help: 'DP: central (the server adds the noise) | distributed (each device adds its share)' },
  'dp-delta': { key: 'dpDelta', kind: 'number', help: 'DP: δ of the reported (ε, δ); unset: 1/N^1.1 for N clients' },
  'dp-quantile': { key: 'dpQuantile', kind: 'number', help: 'DP: adaptive clipping to this quantile of update norms (Andrew et al. 2021; central mode)' },
  'dp-clip-lr': { key: 'dpClipLr', kind: 'number', help: 'DP adaptive clipping: geometric step η' },
  'dp-count-noise': { key: 'dpCountNoise', kind: 'number', help: 'DP adaptive clipping: noise σ_b on the under-clip count; unset: m/20 for m expected clients' },
  'dp-noise': { key: 'dpNoise', kind: 'string', help: 'DP: seeded (reproducible from --seed; simulation default) | secure (CSPRNG)' },
  'synthetic-users': { key: 'syntheticUsers', kind: 'integer', help: 'synthetic data: users' },
  'synthetic-items': { key: 'syntheticItems', kind: 'integer', help: 'synthetic data: items' },
  'synthetic-interactions': { key: 'syntheticInteractions', kind: 'integer', help: 'synthetic data: interactions' },
  json: { key: 'json', kind: 'boolean', help: 'print only the result JSON to stdout' },
  out: { key: 'out', kind: 'string', help: 'write the result JSON to this file' },
  save: { key: 'save', kind: 'string', help: 'save the trained model to this file' },
  report: { key: 'report', kind: 'string', help: 'write an HTML report of the run (learning curves, bytes, test vs baselines) to this file' },
  config: { key: 'config', kind: 'string', help: 'run settings from a JSON or YAML file, or a result JSON (repeats that run); flags override it' },
  'full-table': { key: 'fullTable', kind: 'boolean', help: 'the summary with every protocol and K (default: HR/NDCG at the first K)' },
  quiet: { key: 'quiet', kind: 'boolean', help: 'no progress on stderr' },
};

/** Flags of `fedrec train` that are not run settings: what to do with the result. */
interface OutputFlags {
  json?: boolean;
  out?: string;
  save?: string;
  report?: string;
  config?: string;
  fullTable?: boolean;
  quiet?: boolean;
}

export async function trainCommand(argv: readonly string[]): Promise<number> {
  let parsed: Record<string, unknown>;
  try {
    parsed = parseFlags(argv, TRAIN_FLAGS);
  } catch (err) {
    if (!(err instanceof HelpRequest)) throw err;
    const { json: _j, out: _o, save: _s, report: _r, config: file, fullTable: _f, quiet: _q, ...given } = err.values as Record<string, unknown> & OutputFlags;
    process.stdout.write(trainHelp(TRAIN_FLAGS, { ...(file ? readRunConfig(file).values : {}), ...withNegations(given) }));
    return 0;
  }
  const { json, out, save, report: reportFile, config: file, fullTable, quiet, ...flags } = parsed as Record<string, unknown> & OutputFlags;
  const config = resolveTrainConfig(withNegations(flags), file ? readRunConfig(file) : undefined);
  checkDataFlags(config);
  if (save && config.model === 'text-graph') {
    throw new UsageError('--save: text-graph models are personalised per user (joint layer and item rows on each device); saving them is not supported');
  }
  if (save && config.algorithm === 'graph' && config.mode === 'federated') {
    throw new UsageError('--save: graph aggregation personalises every user\'s item table (R_u, kept per user on the server and used on each device); saving them is not supported');
  }
  if (save && config.algorithm === 'fedrecon') {
    throw new UsageError('--save: FedRecon keeps no user embeddings to save (each user reconstructs its own on its device)');
  }
  // Before any training: a run is never lost to an output path that cannot be written.
  const outPath = out ? prepareOutput('--out', out) : undefined;
  const savePath = save ? prepareOutput('--save', save) : undefined;
  const reporter = reportFile ? await import('./report.js') : null;
  reporter?.checkReportPath(reportFile as string, '--report');
  const progress = startProgress({ k: config.k[0], unit: config.mode === 'federated' ? 'round' : 'epoch', quiet });
  let run: RunOutcome;
  try {
    run = await runConfiguredTraining(config, progress.onRound);
  } finally {
    progress.stop();
  }
  const doc = run.result;
  const problems: string[] = [];
  const report = (flag: string, written: { path: string; failure?: string }) => {
    if (written.failure) problems.push(`${flag}: could not write (${written.failure}); saved to ${written.path} instead`);
  };
  if (outPath) report('--out', writeOutput(outPath, JSON.stringify(doc, null, 2) + '\n'));
  if (savePath && run.model && run.split) {
    const { dataset, split, model } = run;
    const titles = dataset.side.items ? dataset.itemIds.map((id) => dataset.side.items?.get(id)?.title ?? '') : undefined;
    report('--save', writeOutput(savePath, encodeModelFile(model, {
      userIds: dataset.userIds,
      itemIds: dataset.itemIds,
      itemTitles: titles,
      seen: Array.from({ length: split.nUsers }, (_, u) => Array.from(rowOf(split.train, u))),
    })));
  }
  reporter?.writeReport(reportFile as string, [{ name: out ? basename(out).replace(/\.json$/i, '') : String(config.model), doc }]);
  if (json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  else process.stdout.write(summaryTable(doc, { full: fullTable }) + '\n');
  for (const line of problems) process.stderr.write(`fedrec train: ${line}\n`);
  return problems.length > 0 ? 2 : 0;
}

/** --columns and --sep describe a CSV/TSV file; MovieLens formats have fixed columns. */
function checkDataFlags(c: TrainConfig): void {
  if ((c.columns !== undefined || c.sep !== undefined) && (c.format === 'ml-100k' || c.format === 'ml-1m')) {
    const given = [c.columns !== undefined ? '--columns' : '', c.sep !== undefined ? '--sep' : ''].filter(Boolean).join(' and ');
    throw new UsageError(`${given} ${given.includes(' and ') ? 'describe' : 'describes'} a CSV/TSV file; --format ${c.format} has fixed columns (drop ${given}, or use --format csv)`);
  }
  if (c.sep === '') throw new UsageError('--sep: expected a separator, e.g. , or a tab');
  if (c.columns !== undefined) {
    const known = ['user', 'item', 'rating', 'timestamp', 'skip'];
    for (const name of c.columns) {
      if (!known.includes(name)) throw new UsageError(`--columns: unknown column role '${name}'${suggestion(name, known, '')} (roles: user, item, rating, timestamp, skip)`);
    }
    for (const role of ['user', 'item']) {
      if (!c.columns.includes(role)) throw new UsageError(`--columns: a '${role}' column is required, e.g. --columns user,item,rating,timestamp`);
    }
    const twice = known.filter((role) => role !== 'skip' && c.columns!.filter((n) => n === role).length > 1);
    if (twice.length > 0) throw new UsageError(`--columns: '${twice[0]}' is given twice`);
  }
}
