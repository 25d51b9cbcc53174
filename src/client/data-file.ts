/**
 * Client data files on disk (Node): reading one, and writing one per federated client of a split
 * (`fedrec partition`), using the engine's `partitionClients` so that file k holds exactly the
 * users and items of simulated client k. Files hold raw ids (the catalogue's), never dense ones.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../data/errors.js';
import type { Dataset, ImplicitSplit } from '../data/types.js';
import { rowOf } from '../data/user-items.js';
import { partitionClients } from '../federated/partition.js';
import { userSplit } from '../data/split.js';
import { allRows, trainingClients } from '../federated/fedrecon-data.js';
import { clientDataFileSchema, parseClientDataFile, type ClientDataFile, type UserRecord } from './local-data.js';

export function readClientDataFile(path: string): ClientDataFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DataError(path, undefined, `cannot read client data (${(err as Error).message})`);
  }
  try {
    return parseClientDataFile(raw, path);
  } catch (err) {
    throw new DataError(path, undefined, (err as Error).message.replace(`${path}: `, ''));
  }
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * One file per client of `partitionClients(split, usersPerClient, seed)`; returns the paths in client
 * order. `texts` (text-graph): each dense user's text description, written into its record.
 */
export function writeClientFiles(dataset: Dataset, split: ImplicitSplit, usersPerClient: number, seed: number, dir: string, texts?: readonly string[]): string[] {
  mkdirSync(dir, { recursive: true });
  const clients = partitionClients(split, usersPerClient, seed);
  const item = (i: number) => dataset.itemIds[i];
  const ids = (a: Int32Array) => Array.from(a, item);
  return clients.map((client) => {
    const users: UserRecord[] = Array.from(client.users, (u, k) => ({
      id: dataset.userIds[u],
      train: ids(client.positives[k]),
      ...(client.ratings[k] ? { ratings: Array.from(client.ratings[k] as Float32Array) } : {}),
      ...(client.recency?.[k] ? { recency: Array.from(client.recency[k] as Int32Array) } : {}),
      validation: ids(rowOf(split.validation, u)),
      test: ids(rowOf(split.test, u)),
      negatives: { validation: ids(rowOf(split.negatives.validation, u)), test: ids(rowOf(split.negatives.test, u)) },
      ...(texts ? { text: texts[u] } : {}),
    }));
    const file: ClientDataFile = clientDataFileSchema.parse({ format: 'fedrec-client-data', version: 1, users });
    const path = join(dir, `client-${String(client.clientId).padStart(4, '0')}.json`);
    writeAtomic(path, JSON.stringify(file));
    return path;
  });
}

/**
 * FedRecon's clients (federated/fedrecon-data.ts `trainingClients`): the training users of the seeded
 * user split (`userSplit`), one per file in client order, each holding every interaction it has
 * (ratings too when the data has them) — file k is simulated client k. Validation and test users
 * are not written: they are never trained on (a new user reconstructs from its own file).
 */
export function writeFedReconClientFiles(dataset: Dataset, fractions: readonly number[], seed: number, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const users = userSplit(dataset.nUsers, fractions, seed);
  const item = (i: number) => dataset.itemIds[i];
  return trainingClients(allRows(dataset), users.train).map((client) => {
    const u = client.users[0];
    const ratings = client.ratings[0];
    const record: UserRecord = { id: dataset.userIds[u], train: Array.from(client.positives[0], item), ...(ratings ? { ratings: Array.from(ratings) } : {}) };
    const file: ClientDataFile = clientDataFileSchema.parse({ format: 'fedrec-client-data', version: 1, users: [record] });
    const path = join(dir, `client-${String(client.clientId).padStart(4, '0')}.json`);
    writeAtomic(path, JSON.stringify(file));
    return path;
  });
}
