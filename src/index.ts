/**
 * fedrec as a library: load or generate a data set, split it, build a run config (validated, with
 * the tuned defaults of each model/algorithm), train and evaluate, read the result document; the
 * Node client and the coordinator are loaded on first use (they pull in HTTP and SQLite).
 *
 *   import { train } from 'fedrec';
 *   const run = await train({ model: 'mf', rounds: 20, data: 'ml-100k' });
 *   run.result.metrics.test.sampled?.['HR@10'];
 */
import { parseTrainConfig, type TrainConfig } from './config/config.js';
import { runConfiguredTraining, type RunOutcome } from './recipes/run.js';
import type { ProgressListener } from './report/history.js';
import type { JoinOptions, ClientReport, NodeClientOptions, Recommendation as DeviceRecommendation } from './client/node-client.js';
import type { RunningCoordinator, StartOptions } from './server/serve.js';

// Data: loading, synthetic data, splits.
export type { Dataset, ImplicitSplit, UserItems, EvalPart, SideInfo } from './data/types.js';
export { loadDataset, type DatasetFormat, type LoadDatasetOptions } from './data/readers.js';
export { generateSynthetic, type SyntheticOptions } from './data/synthetic.js';
export { leaveOneOut, ratioSplit, userSplit } from './data/split.js';
export { DataError } from './data/errors.js';
export { splitDataset, loadConfiguredDataset } from './recipes/experiment.js';

// Configuration.
export { parseTrainConfig, trainConfigSchema, ConfigError, type TrainConfig } from './config/config.js';
export { recordedConfig, appliesTo, FIELD_SCOPES } from './config/config-scope.js';

// Training and evaluation.
export { runConfiguredTraining, type RunOutcome } from './recipes/run.js';
export { runTraining, type TrainedRun } from './recipes/experiment.js';
export { runFedReconTraining } from './recipes/fedrecon-experiment.js';
export { runTextGraphTraining } from './recipes/text-graph-experiment.js';
export type { HistoryEntry, ProgressListener } from './report/history.js';
export { evaluateRanking, type RankingOptions } from './eval/ranking.js';
export { popularityScorer, randomScorer } from './eval/baselines.js';
export type { MetricMap, RankingResult, Scorer } from './eval/types.js';
export { topK, type Recommendation } from './eval/top-k.js';
export { saveModelFile, loadModelFile, type ModelFileHeader } from './models/model-file.js';
export type { ResultDocument, SplitMetrics } from './report/result.js';
export { onStatus } from './report/status.js';
export { FEDREC_VERSION } from './version.js';

/** Options of a run: any fields of the run config (the CLI's flags in camelCase); the rest take their defaults. */
export type TrainOptions = Partial<TrainConfig>;

/** Validate `options` (throws ConfigError naming each bad field) and run training with evaluation. */
export async function train(options: TrainOptions = {}, onProgress?: ProgressListener): Promise<RunOutcome & { config: TrainConfig }> {
  const config = parseTrainConfig(options);
  return { ...(await runConfiguredTraining(config, onProgress)), config };
}

// Deployment: a Node client taking part in training, and the coordinator (loaded on first use).
export type { JoinOptions, ClientReport, NodeClientOptions, DeviceRecommendation };
export type { RunningCoordinator, StartOptions };
export type { ServerConfig } from './server/config.js';

/** Take part in federated training with this machine's data (it never leaves the process). */
export async function joinAndTrain(opts: JoinOptions): Promise<ClientReport> {
  return (await import('./client/node-client.js')).joinAndTrain(opts);
}

/** Top-K on this device from the coordinator's current model and the client's own data. */
export async function recommendOnDevice(opts: NodeClientOptions & { k: number; user?: string }): Promise<DeviceRecommendation[]> {
  return (await import('./client/node-client.js')).recommendOnDevice(opts);
}

/** Run a coordinator (HTTP + SQLite) until `close()`. */
export async function startCoordinator(opts: StartOptions): Promise<RunningCoordinator> {
  return (await import('./server/serve.js')).startCoordinator(opts);
}

/** Read and validate a coordinator config file ({ "training": {...}, "coordinator": {...} }). */
export async function readServerConfig(file: string) {
  return (await import('./server/config.js')).readServerConfig(file);
}

/** Issue a client token into a coordinator's SQLite store (printed once, stored hashed). */
export async function issueClientToken(dbPath: string, label = ''): Promise<string> {
  const [{ SqliteStore }, { issueToken }] = await Promise.all([import('./server/sqlite-store.js'), import('./server/tokens.js')]);
  const store = new SqliteStore(dbPath);
  try {
    return (await issueToken(store, label)).token;
  } finally {
    await store.close();
  }
}
export { ALGORITHMS, findAlgorithm, deviceWork } from './algorithms/registry.js';
export type { Algorithm, ClientWork, ServerContext } from './algorithms/types.js';
