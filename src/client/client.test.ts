/**
 * Client pieces without a network: the data-file mapping reproduces the engine's partition exactly,
 * on-device metrics summed over clients equal `evaluateRanking`, and the join loop retries a
 * coordinator that is down, keeps its state only for accepted updates and stops on 'done'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic } from '../data/synthetic.js';
import { leaveOneOut } from '../data/split.js';
import { partitionClients } from '../federated/partition.js';
import { evaluateRanking } from '../eval/ranking.js';
import { createModel } from '../models/registry.js';
import { rowOf } from '../data/user-items.js';
import { initGlobal, hashRoundSeed } from '../simulation/simulation.js';
import { decodeUpdate } from '../wire/messages.js';
import type { Catalogue, RoundInfo, UpdateAck } from '../wire/protocol.js';
import type { GlobalParams } from '../models/types.js';
import { toLocalData, type UserRecord } from './local-data.js';
import { sampledSums } from './on-device.js';
import { Participant } from './participant.js';
import { TransportError, type Transport } from './types.js';

const ds = generateSynthetic({ users: 40, items: 400, interactions: 1600, seed: 5 });
const split = leaveOneOut(ds, { seed: 5 });
const catalogue: Catalogue = { nItems: ds.nItems, itemIds: [...ds.itemIds], titles: ds.itemIds.map((i) => `t${i}`), featured: [] };

function recordsOf(users: Int32Array): UserRecord[] {
  const ids = (a: Int32Array) => Array.from(a, (i) => ds.itemIds[i]);
  return Array.from(users, (u) => ({
    id: ds.userIds[u],
    train: ids(rowOf(split.train, u)).reverse(), // any order on disk
    validation: ids(rowOf(split.validation, u)),
    test: ids(rowOf(split.test, u)),
    negatives: { validation: ids(rowOf(split.negatives.validation, u)), test: ids(rowOf(split.negatives.test, u)) },
  }));
}

test('a client file maps back to exactly the engine partition (positives and exclusions)', () => {
  const clients = partitionClients(split, 8, 5);
  for (const c of clients) {
    const local = toLocalData(recordsOf(c.users), catalogue);
    assert.deepEqual(local.unknownItems, []);
    c.positives.forEach((p, k) => assert.deepEqual(local.data.positives[k], p));
    c.excluded.forEach((e, k) => assert.deepEqual(local.data.excluded[k], e));
  }
});

test('recency on the device: times or ranks in the file give the engine partition recency ranks', () => {
  const times = new Map<string, number>();
  ds.interactions.users.forEach((u, k) => times.set(`${u}/${ds.interactions.items[k]}`, ds.interactions.timestamps![k]));
  for (const c of partitionClients(split, 8, 5)) {
    const records = recordsOf(c.users);
    const withTimes = records.map((r, k) => ({ ...r, times: r.train.map((id) => times.get(`${c.users[k]}/${ds.itemIndex.get(id)}`)!) }));
    const withRanks = records.map((r, k) => {
      const rank = new Map(Array.from(c.positives[k], (item, j) => [ds.itemIds[item], c.recency![k]![j]]));
      return { ...r, recency: r.train.map((id) => rank.get(id)!) };
    });
    for (const file of [withTimes, withRanks]) {
      const local = toLocalData(file, catalogue);
      c.recency!.forEach((ranks, k) => assert.deepEqual(local.data.recency![k], ranks));
    }
    assert.deepEqual(toLocalData(records, catalogue).data.recency, records.map(() => null));
  }
});

test('on-device sampled metrics, summed over clients, equal evaluateRanking', () => {
  const model = createModel({ kind: 'mf', dim: 4 }, split.nUsers, split.nItems, { seed: 9 });
  const reference = evaluateRanking(model, split, { part: 'test', protocols: ['sampled'], ks: [10] }).sampled as Record<string, number>;
  let hr = 0;
  let count = 0;
  for (const c of partitionClients(split, 8, 5)) {
    const local = toLocalData(recordsOf(c.users), catalogue);
    const dim = 4;
    const userEmb = new Float32Array(c.users.length * dim);
    const userBias = new Float32Array(c.users.length);
    c.users.forEach((u, k) => {
      userEmb.set(model.params.local.userEmb.subarray(u * dim, (u + 1) * dim), k * dim);
      userBias[k] = model.params.local.userBias[u];
    });
    const device = createModel({ kind: 'mf', dim }, c.users.length, split.nItems, { global: model.params.global, local: { userEmb, userBias } });
    const sums = sampledSums(device, local.evaluation, 'test', [10]);
    hr += sums.sums['HR@10'] ?? 0;
    count += sums.count;
  }
  assert.ok(Math.abs(hr / count - reference['HR@10']) < 1e-12);
});

/** A coordinator in memory: down for the first `downFor` calls, then two rounds. */
class FakeTransport implements Transport {
  calls = 0;
  round_ = 1;
  sent: number[] = [];
  constructor(private readonly downFor: number, private readonly global: GlobalParams) {}
  private gate(): void {
    if (++this.calls <= this.downFor) throw new TransportError(null, 'network', 'ECONNREFUSED');
  }
  async round(): Promise<RoundInfo> {
    this.gate();
    const plan = { round: this.round_, model: { kind: 'mf' as const, dim: 4 }, loss: 'bce' as const, localEpochs: 1, batch: 8, negatives: 2, optimizer: { kind: 'adam' as const, lr: 0.01 }, seed: hashRoundSeed(1, this.round_) };
    if (this.round_ > 2) return { status: 'done', clientId: 3, round: 2, algorithm: 'fedavg', nItems: ds.nItems, plan };
    return { status: 'train', clientId: 3, round: this.round_, modelVersion: this.round_ - 1, algorithm: 'fedavg', nItems: ds.nItems, plan, deadlineAt: 0 };
  }
  async model(): Promise<{ version: number; global: GlobalParams }> {
    this.gate();
    return { version: this.round_ - 1, global: this.global };
  }
  async submit(update: Uint8Array): Promise<UpdateAck> {
    this.gate();
    const u = decodeUpdate(update);
    this.sent.push(u.round);
    this.round_++;
    return { accepted: true, round: u.round, clipped: false, updatesInRound: 1 };
  }
  async catalogue(): Promise<Catalogue> {
    return catalogue;
  }
}

test('the join loop rides out a coordinator that is down, sends once per round, stops on done', async () => {
  const users = Int32Array.from([0, 1, 2]);
  const fake = new FakeTransport(3, initGlobal({ kind: 'mf', dim: 4 }, ds.nItems, 1));
  const p = new Participant(fake, catalogue, toLocalData(recordsOf(users), catalogue));
  const retries: number[] = [];
  const last = await p.run({ retry: { baseMs: 1, maxMs: 5 }, maxDurationMs: 30_000, onEvent: (e) => e.type === 'retry' && retries.push(e.attempt) });
  assert.equal(last.status, 'done');
  assert.deepEqual(retries, [1, 2, 3]);
  assert.deepEqual(fake.sent, [1, 2]);
  assert.equal(p.clientId, 3);
  assert.ok(p.state && p.state.local.userEmb.length === 3 * 4);
});
