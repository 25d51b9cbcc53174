/**
 * The Node client behind `fedrec join` and `fedrec recommend --server`: reads the client's own data
 * file, joins the coordinator over HTTP, trains round after round, keeps its local tables in
 * memory (and in `--state` when given), and at the end scores on the device: its top-K items and,
 * when its file holds held-out items, its sampled-protocol metrics (written to `--report`).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { clientNegativeSource } from '../federated/client-work.js';
import type { LocalParams } from '../models/types.js';
import type { RoundPlan } from '../federated/types.js';
import { HttpTransport } from './http-transport.js';
import { toLocalData } from './local-data.js';
import { readClientDataFile } from './data-file.js';
import { topK } from '../eval/top-k.js';
import { deviceScorer, sampledSums, type MetricSums } from './on-device.js';
import { createTextEncoder } from '../text/encoders.js';
import { registerTextEncoderFactory } from '../algorithms/graph-device.js';
import { Participant, type ParticipantOptions } from './participant.js';
import { withRetries } from './retry.js';
import { loadState, saveState } from './state-file.js';
import type { ClientEvent } from './types.js';
import { deviceLocalTables } from './works.js';

// A Node device runs every configured text encoder (USE, transformers.js, hashing), cached on disk.
registerTextEncoderFactory((kind, seed, model) => createTextEncoder({ kind, seed, model }));

export interface NodeClientOptions {
  readonly server: string;
  readonly token: string;
  readonly dataFile: string;
  readonly statePath?: string;
  readonly log?: (line: string) => void;
}

export interface JoinOptions extends NodeClientOptions {
  readonly reportPath?: string;
  readonly k?: number;
  readonly participant?: ParticipantOptions;
}

export interface ClientReport {
  readonly clientId: number;
  readonly roundsSent: number;
  readonly modelVersion: number;
  readonly users: number;
  readonly test: MetricSums;
  readonly validation: MetricSums;
}

function describe(e: ClientEvent): string {
  switch (e.type) {
    case 'joined': return `joined as client ${e.clientId}`;
    case 'waiting': return `round ${e.round}: waiting (${e.reason})`;
    case 'trained': return `round ${e.round}: trained, loss ${e.loss.toFixed(4)}, update ${e.bytes} bytes`;
    case 'accepted': return `round ${e.round}: update accepted${e.clipped ? ' (clipped to the norm bound)' : ''}`;
    case 'skipped': return `round ${e.round}: update not counted (${e.reason})`;
    case 'retry': return `retry ${e.attempt} in ${e.delayMs} ms: ${e.error}`;
    case 'done': return `training finished at model version ${e.version}`;
  }
}

async function connect(opts: NodeClientOptions): Promise<Participant> {
  const file = readClientDataFile(opts.dataFile);
  const transport = new HttpTransport({ server: opts.server, token: opts.token });
  const catalogue = await withRetries(() => transport.catalogue(), { giveUpAfterMs: 60_000 });
  const local = toLocalData(file.users, catalogue);
  if (local.unknownItems.length > 0) opts.log?.(`${local.unknownItems.length} item id(s) unknown to the coordinator's catalogue were skipped`);
  const participant = new Participant(transport, catalogue, local);
  const saved = opts.statePath ? loadState(opts.statePath) : null;
  if (saved) participant.state = saved.state;
  return participant;
}

export async function joinAndTrain(opts: JoinOptions): Promise<ClientReport> {
  const participant = await connect(opts);
  const log = opts.log ?? (() => undefined);
  const onEvent = (e: ClientEvent) => {
    log(describe(e));
    if (e.type === 'accepted' && opts.statePath && participant.state) saveState(opts.statePath, participant.state, e.round);
  };
  await participant.run({ ...opts.participant, onEvent });
  const final = await participant.finalModel();
  const model = deviceScorer(final.info, final.global, scoringTables(participant, final), participant.data(), final.info.nItems, final.device);
  const ks = [opts.k ?? 10];
  const report: ClientReport = {
    clientId: participant.clientId ?? -1,
    roundsSent: participant.roundsSent,
    modelVersion: final.version,
    users: participant.local.data.users.length,
    test: sampledSums(model, participant.local.evaluation, 'test', ks),
    validation: sampledSums(model, participant.local.evaluation, 'validation', ks),
  };
  if (opts.reportPath) {
    const tmp = `${opts.reportPath}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(report, null, 2) + '\n');
    renameSync(tmp, opts.reportPath);
  }
  return report;
}

/**
 * Local tables for scoring, computed here and never sent: FedRecon reconstructs them from this
 * client's data; FedAvg uses the kept ones, or (never trained) one local pass from fresh tables.
 */
export function scoringTables(participant: Participant, final: Awaited<ReturnType<Participant['finalModel']>>): LocalParams {
  const data = participant.data();
  const plan = { ...final.info.plan, round: Math.max(1, final.info.round) };
  return deviceLocalTables(final.info.algorithm, plan as unknown as RoundPlan, final.global, data, participant.state, clientNegativeSource(final.info.nItems, data), final.device);
}

export interface Recommendation {
  readonly user: string;
  readonly items: { readonly item: string; readonly title: string; readonly score: number }[];
}

/** Top-k for each user of the data file, computed here with the coordinator's current model. */
export async function recommendOnDevice(opts: NodeClientOptions & { k: number; user?: string }): Promise<Recommendation[]> {
  const participant = await connect(opts);
  const file = readClientDataFile(opts.dataFile);
  const final = await participant.finalModel();
  participant.clientId = final.info.clientId;
  const model = deviceScorer(final.info, final.global, scoringTables(participant, final), participant.data(), final.info.nItems, final.device);
  const { catalogue } = participant;
  const out: Recommendation[] = [];
  file.users.forEach((u, k) => {
    if (opts.user !== undefined && u.id !== opts.user) return;
    const ev = participant.local.evaluation[k];
    const seen = new Set<number>([...participant.local.data.positives[k], ...ev.validation, ...ev.test]);
    const items = topK(model, k, opts.k, seen).map((r) => ({ item: catalogue.itemIds[r.item], title: catalogue.titles[r.item], score: r.score }));
    out.push({ user: u.id, items });
  });
  if (opts.user !== undefined && out.length === 0) throw new Error(`user '${opts.user}' is not in ${opts.dataFile}`);
  return out;
}
