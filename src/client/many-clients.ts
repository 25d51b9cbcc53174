/**
 * Many participants in one process (`fedrec join --data-dir DIR --concurrency N`): every client
 * file in DIR is its own participant (its own token, in sorted file order from `--tokens`, its own
 * local tables and state file), and at most N of them work (ask, train, send) at any moment; a
 * participant waiting for the round to close holds no slot. So a rehearsal of 10 000+ clients runs
 * through the real protocol from a few processes. The catalogue is fetched once and shared.
 */
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { HttpTransport } from './http-transport.js';
import { readClientDataFile } from './data-file.js';
import { toLocalData } from './local-data.js';
import { deviceScorer, sampledSums } from './on-device.js';
import { deviceNeedsOf } from './works.js';
import { Participant, type ParticipantOptions } from './participant.js';
import { sleep, withRetries } from './retry.js';
import { loadState, saveState } from './state-file.js';
import type { ClientEvent } from './types.js';
import { scoringTables, type ClientReport } from './node-client.js';

export interface ManyClientsOptions {
  readonly server: string;
  readonly tokens: readonly string[];
  readonly dataDir: string;
  readonly concurrency: number;
  /** Keep each participant's local tables in DIR/<file name>.state between runs. */
  readonly stateDir?: string;
  /** Write each participant's on-device evaluation to DIR/<file name>.report.json at the end. */
  readonly reportDir?: string;
  readonly maxDurationMs?: number;
  readonly participant?: ParticipantOptions;
  readonly log?: (line: string) => void;
}

export interface ManyClientsSummary {
  readonly clients: number;
  readonly updatesSent: number;
  readonly modelVersion: number;
  /** Sum over clients of the on-device test sums and counts (sampled protocol), when reports were computed. */
  readonly testHr10: number | null;
}

/** The client data files of a folder (`fedrec partition` writes client-NNNN.json), sorted by name. */
export function clientFilesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.report.json')).sort().map((f) => join(dir, f));
}

export async function runManyClients(opts: ManyClientsOptions): Promise<ManyClientsSummary> {
  const files = clientFilesIn(opts.dataDir);
  if (files.length === 0) throw new Error(`${opts.dataDir}: no client data files (*.json)`);
  if (opts.tokens.length < files.length) throw new Error(`${files.length} client files in ${opts.dataDir} but only ${opts.tokens.length} tokens: one token per file`);
  const log = opts.log ?? (() => undefined);
  const first = new HttpTransport({ server: opts.server, token: opts.tokens[0] });
  const catalogue = await withRetries(() => first.catalogue(), { giveUpAfterMs: 60_000 });
  if (opts.stateDir) mkdirSync(opts.stateDir, { recursive: true });
  if (opts.reportDir) mkdirSync(opts.reportDir, { recursive: true });
  const statePath = (k: number) => (opts.stateDir ? join(opts.stateDir, `${basename(files[k], '.json')}.state`) : undefined);
  const participants = files.map((file, k) => {
    const p = new Participant(new HttpTransport({ server: opts.server, token: opts.tokens[k] }), catalogue, toLocalData(readClientDataFile(file).users, catalogue));
    const path = statePath(k);
    const saved = path ? loadState(path) : null;
    if (saved) p.state = saved.state;
    return p;
  });

  const started = Date.now();
  const maxDurationMs = opts.maxDurationMs ?? 3_600_000;
  // ready: participants that may step now; a waiting one comes back after its retry delay
  const ready: number[] = participants.map((_, k) => k);
  let finished = 0;
  const sleepers: (() => void)[] = [];
  const notify = () => sleepers.shift()?.();
  const later = (k: number, ms: number) => setTimeout(() => {
    ready.push(k);
    notify();
  }, ms);
  let failure: Error | null = null;

  const worker = async (): Promise<void> => {
    while (finished < participants.length && !failure) {
      if (Date.now() - started > maxDurationMs) throw new Error(`gave up after ${maxDurationMs} ms without the coordinator finishing`);
      const k = ready.shift();
      if (k === undefined) {
        await Promise.race([new Promise<void>((r) => sleepers.push(r)), sleep(500)]);
        continue;
      }
      const p = participants[k];
      const onEvent = (e: ClientEvent) => {
        if (e.type === 'accepted') {
          const path = statePath(k);
          if (path && p.state) saveState(path, p.state, e.round);
          log(`client ${p.clientId}: round ${e.round}: update accepted`);
        } else if (e.type === 'skipped') log(`client ${p.clientId}: round ${e.round}: update not counted (${e.reason})`);
      };
      try {
        const r = await p.step({ ...opts.participant, onEvent });
        if (r.kind === 'done') {
          finished++;
          while (sleepers.length > 0) notify();
        } else if (r.kind === 'wait') later(k, r.retryAfterMs);
        else ready.push(k);
      } catch (err) {
        failure = new Error(`${basename(files[k])}: ${(err as Error).message}`);
        notify();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, participants.length)) }, worker));
  if (failure) throw failure;

  let modelVersion = 0;
  let hrSum = 0;
  let hrCount = 0;
  if (opts.reportDir) {
    // one model download serves every participant's on-device evaluation
    const final = await participants[0].finalModel();
    modelVersion = final.version;
    for (const [k, p] of participants.entries()) {
      // a work with per-client downloads (graph aggregation's personal rows) scores with its own
      const mine = deviceNeedsOf(final.info.algorithm) ? await p.finalModel() : final;
      const model = deviceScorer(mine.info, mine.global, scoringTables(p, mine), p.data(), mine.info.nItems, mine.device);
      const report: ClientReport = {
        clientId: p.clientId ?? -1,
        roundsSent: p.roundsSent,
        modelVersion: final.version,
        users: p.local.data.users.length,
        test: sampledSums(model, p.local.evaluation, 'test', [10]),
        validation: sampledSums(model, p.local.evaluation, 'validation', [10]),
      };
      hrSum += report.test.sums['HR@10'] ?? 0;
      hrCount += report.test.count;
      const path = join(opts.reportDir as string, `${basename(files[k], '.json')}.report.json`);
      writeFileSync(`${path}.tmp`, JSON.stringify(report, null, 2) + '\n');
      renameSync(`${path}.tmp`, path);
    }
  } else {
    modelVersion = (await participants[0].transport.round()).round;
  }
  return {
    clients: participants.length,
    updatesSent: participants.reduce((n, p) => n + p.roundsSent, 0),
    modelVersion,
    testHr10: hrCount > 0 ? hrSum / hrCount : null,
  };
}
