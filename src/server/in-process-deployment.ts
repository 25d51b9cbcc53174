/**
 * Test support (not a test file): a coordinator in this process on a real SQLite file, its clients
 * as in-process `Participant`s over real HTTP, one per client file the training config's data
 * yields — the shape of the secure-aggregation, DP and graph deployment tests.
 */
import { join } from 'node:path';
import { HttpTransport } from '../client/http-transport.js';
import { toLocalData } from '../client/local-data.js';
import { readClientDataFile, writeClientFiles, writeFedReconClientFiles } from '../client/data-file.js';
import { Participant } from '../client/participant.js';
import { parseTrainConfig, type TrainConfig } from '../config/config.js';
import { loadConfiguredDataset, splitDataset } from '../config/configured-data.js';
import type { SecAggPhase } from '../secagg/types.js';
import { parseServerConfig } from './config.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { issueToken } from './tokens.js';

export interface InProcessDeployment {
  readonly c: TrainConfig;
  readonly server: RunningCoordinator;
  readonly tokens: string[];
  readonly participants: Participant[];
  readonly files: string[];
}

/**
 * Client files of `training` in `dir` (FedRecon's per-user files for algorithm fedrecon), a
 * coordinator with `coordinator` options (quorum: every client; the round size of the training
 * config; fast ticks) and one participant per file, each with its own token.
 */
export async function deployInProcess(dir: string, training: Record<string, unknown>, coordinator: Record<string, unknown>): Promise<InProcessDeployment> {
  const c = parseTrainConfig(training);
  const ds = await loadConfiguredDataset(c);
  const files = c.algorithm === 'fedrecon'
    ? writeFedReconClientFiles(ds, c.userSplit, c.seed, join(dir, 'clients'))
    : writeClientFiles(ds, splitDataset(ds, c.split, c.seed), c.usersPerClient, c.seed, join(dir, 'clients'));
  const server = await startCoordinator({
    config: parseServerConfig({ training, coordinator: { minClients: files.length, ...(c.clientsPerRound ? { clientsPerRound: c.clientsPerRound } : {}), tickMs: 50, retryAfterMs: 50, ...coordinator } }),
    dbPath: join(dir, 'c.db'),
    port: 0,
    buildBundle: false,
    logger: process.env.FEDREC_TEST_LOG ? { level: 'info' } : false,
  });
  const tokens = await Promise.all(files.map(async () => (await issueToken(server.store)).token));
  await server.coordinator.tick();
  const participants = await Promise.all(tokens.map(async (token, k) => {
    const transport = new HttpTransport({ server: server.url, token });
    const catalogue = await transport.catalogue();
    return new Participant(transport, catalogue, toLocalData(readClientDataFile(files[k]).users, catalogue));
  }));
  return { c, server, tokens, participants, files };
}

/** Every participant until training ends; `drop(k, round)` names the secure phase client k vanishes before. */
export function runParticipants(participants: readonly Participant[], drop: (k: number, round: number) => SecAggPhase | undefined = () => undefined, maxDurationMs = 120_000) {
  return Promise.all(participants.map((p, k) => p.run({ maxDurationMs, retry: { baseMs: 20, maxMs: 200 }, secureDropBefore: (round) => drop(k, round) })));
}
