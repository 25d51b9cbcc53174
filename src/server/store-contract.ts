/**
 * The `Store` contract (not a test file): the tests every store must pass, run by
 * sqlite-store.test.ts on a SQLite file and by pg-store.test.ts on a real PostgreSQL. `fresh()`
 * gives a new empty place; `open(place)` opens a store on it (again after a close: durability).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeState, encodeState } from '../wire/messages.js';
import { hashToken, issueToken } from './tokens.js';
import type { Store } from './types.js';

export interface StoreFixture {
  fresh(): Promise<string>;
  open(place: string, options?: { keepCheckpoints?: number }): Promise<Store>;
}

const round = (r: number) => ({ round: r, seed: 1, selected: null, openedAt: 0, deadlineAt: 1 });
const folded = (r: number, model: number[], clients = 1) => ({ closed: { round: r, clients, loss: 0.5, closedAt: r }, model: Uint8Array.from(model), serverState: null, next: null });

export function storeContract(name: string, fx: () => StoreFixture): void {
  test(`${name}: clients get ids 0, 1, 2 and only token hashes are stored`, async () => {
    const store = await fx().open(await fx().fresh());
    try {
      const issued = [];
      for (let k = 0; k < 3; k++) issued.push(await issueToken(store, 'x'));
      assert.deepEqual(issued.map((i) => i.client.id), [0, 1, 2]);
      assert.equal((await store.clientByTokenHash(hashToken(issued[1].token)))?.id, 1);
      assert.equal(await store.clientByTokenHash(issued[1].token), null, 'the plain token is not a key');
      assert.equal(await store.clientCount(), 3);
      const together = await Promise.all(Array.from({ length: 20 }, () => issueToken(store)));
      assert.deepEqual(together.map((i) => i.client.id).sort((a, b) => a - b), Array.from({ length: 20 }, (_, k) => k + 3), 'concurrent creations get distinct consecutive ids');
    } finally {
      await store.close();
    }
  });

  test(`${name}: meta values: setMetaOnce keeps the first writer's value`, async () => {
    const store = await fx().open(await fx().fresh());
    try {
      assert.equal(await store.getMeta('identity'), null);
      assert.equal(await store.setMetaOnce('identity', 'a'), 'a');
      assert.equal(await store.setMetaOnce('identity', 'b'), 'a');
      await store.setMeta('other', 'x');
      await store.setMeta('other', 'y');
      assert.equal(await store.getMeta('other'), 'y');
    } finally {
      await store.close();
    }
  });

  test(`${name}: round completion is atomic and survives reopening; updates are once per client, ordered by id`, async () => {
    const f = fx();
    const place = await f.fresh();
    let store = await f.open(place, { keepCheckpoints: 2 });
    try {
      assert.equal(await store.checkpointVersion(), null);
      assert.equal(await store.initialise(Uint8Array.from([0]), null, round(1)), true);
      assert.equal(await store.initialise(Uint8Array.from([7]), null, round(1)), false, 'a second initialise changes nothing');
      assert.deepEqual([...((await store.latestCheckpoint())?.model ?? [])], [0]);
      assert.equal(await store.addUpdate(1, 5, Uint8Array.from([5])), 'added');
      assert.equal(await store.addUpdate(1, 2, Uint8Array.from([2])), 'added');
      assert.equal(await store.addUpdate(1, 5, Uint8Array.from([9])), 'duplicate');
      assert.equal(await store.addUpdate(2, 1, Uint8Array.from([1])), 'round-not-open');
      assert.deepEqual((await store.updatesOf(1)).map((u) => [u.clientId, ...u.body]), [[2, 2], [5, 5]]);
      assert.equal(await store.hasUpdate(1, 5), true);
      assert.equal(await store.hasUpdate(1, 6), false);
      await store.close();
      store = await f.open(place, { keepCheckpoints: 2 });
      assert.equal((await store.openRound())?.round, 1, 'the open round survives a restart');
      assert.equal(await store.updateCount(1), 2, 'accepted updates survive a restart');
      await store.extendDeadline(1, 99);
      assert.equal((await store.openRound())?.deadlineAt, 99);
      await store.completeRound({ round: 1, clients: 2, loss: 0.5, closedAt: 1 }, Uint8Array.from([1]), null, null);
      await assert.rejects(store.completeRound({ round: 1, clients: 2, loss: 0.5, closedAt: 1 }, Uint8Array.from([1]), null, null), /not open/);
      assert.equal((await store.latestCheckpoint())?.version, 1, 'a failed second completion changed nothing');
      assert.equal(await store.checkpointVersion(), 1);
      assert.equal(await store.openRound(), null);
      assert.equal(await store.updateCount(1), 0);
      assert.deepEqual((await store.closedRounds()).map((r) => [r.round, r.clients, r.loss]), [[1, 2, 0.5]]);
      assert.equal(await store.insertRound(round(1)), false, 'a closed round is never reopened');
      assert.equal(await store.insertRound(round(2)), true);
      assert.equal(await store.insertRound(round(3)), false, 'at most one open round');
      assert.equal((await store.openRound())?.round, 2);
    } finally {
      await store.close();
    }
  });

  test(`${name}: closeRound folds the stored updates in client-id order, once; a failed fold changes nothing`, async () => {
    const f = fx();
    const store = await f.open(await f.fresh(), { keepCheckpoints: 2 });
    try {
      await store.initialise(Uint8Array.from([0]), null, round(1));
      for (const id of [3, 1, 2]) await store.addUpdate(1, id, Uint8Array.from([id * 10]));
      await assert.rejects(store.closeRound(1, () => { throw new Error('fold failed'); }), /fold failed/);
      assert.equal(await store.updateCount(1), 3, 'a failed fold keeps the updates');
      assert.equal((await store.openRound())?.round, 1, 'and the round open');
      let seen: number[][] = [];
      const result = await store.closeRound(1, (updates) => {
        seen = updates.map((u) => [u.clientId, ...u.body]);
        return { ...folded(1, [1], updates.length), next: round(2) };
      });
      assert.equal(result, 'closed');
      assert.deepEqual(seen, [[1, 10], [2, 20], [3, 30]]);
      assert.equal(await store.closeRound(1, () => assert.fail('folded twice')), 'not-open');
      assert.equal(await store.addUpdate(1, 4, Uint8Array.from([4])), 'round-not-open', 'no update lands in a closed round');
      assert.equal((await store.openRound())?.round, 2, 'the next round opened in the same transaction');
      assert.deepEqual((await store.closedRounds()).map((r) => [r.round, r.clients]), [[1, 3]]);
      for (let r = 2; r <= 4; r++) {
        assert.equal(await store.closeRound(r, () => ({ ...folded(r, [r]), next: r < 4 ? round(r + 1) : null })), 'closed');
      }
      assert.equal(await store.checkpointVersion(), 4);
      assert.deepEqual([...((await store.latestCheckpoint())?.model ?? [])], [4]);
    } finally {
      await store.close();
    }
  });

  test(`${name}: concurrent addUpdate and closeRound: every update is folded or refused, never both, never lost`, async () => {
    const f = fx();
    const store = await f.open(await f.fresh());
    try {
      await store.initialise(Uint8Array.from([0]), null, round(1));
      const adds = Array.from({ length: 40 }, (_, id) => store.addUpdate(1, id, Uint8Array.from([id])));
      let foldedIds: number[] = [];
      const closing = store.closeRound(1, (updates) => {
        foldedIds = updates.map((u) => u.clientId);
        return folded(1, [1], updates.length);
      });
      const results = await Promise.all(adds);
      assert.equal(await closing, 'closed');
      const added = results.flatMap((r, id) => (r === 'added' ? [id] : []));
      assert.deepEqual(added, foldedIds, 'acknowledged updates are exactly the folded ones');
      assert.ok(results.every((r) => r === 'added' || r === 'round-not-open'));
    } finally {
      await store.close();
    }
  });

  test(`${name}: the server state is checkpointed with the model in the same transaction and survives reopening`, async () => {
    const f = fx();
    const place = await f.fresh();
    let store = await f.open(place);
    try {
      await store.initialise(Uint8Array.from([0]), encodeState({ step: 0, tables: {} }), round(1));
      assert.deepEqual(decodeState((await store.latestCheckpoint())?.serverState as Uint8Array), { step: 0, tables: {} });
      const state = { step: 1, tables: { 'm/itemEmb': Float32Array.from([0.25, -0.5]), 'v/itemEmb': Float32Array.from([1e-3, 4e-3]) } };
      await store.completeRound({ round: 1, clients: 1, loss: 0, closedAt: 1 }, Uint8Array.from([1]), encodeState(state), null);
      await assert.rejects(store.completeRound({ round: 1, clients: 1, loss: 0, closedAt: 2 }, Uint8Array.from([9]), encodeState({ step: 9, tables: {} }), null), /not open/);
      await store.close();
      store = await f.open(place);
      const checkpoint = await store.latestCheckpoint();
      assert.equal(checkpoint?.version, 1);
      assert.deepEqual([...(checkpoint?.model ?? [])], [1]);
      assert.deepEqual(decodeState(checkpoint?.serverState as Uint8Array), state, 'the state of round 1, bit for bit');
      await store.insertRound(round(2));
      await store.completeRound({ round: 2, clients: 1, loss: 0, closedAt: 3 }, Uint8Array.from([2]), null, null);
      assert.equal((await store.latestCheckpoint())?.serverState, null, 'a strategy without server state stores none');
    } finally {
      await store.close();
    }
  });

  test(`${name}: a revoked or expired token is refused at once, also through another connection (another process or replica)`, async () => {
    const f = fx();
    const place = await f.fresh();
    const store = await f.open(place);
    const other = await f.open(place);
    try {
      const a = await issueToken(store, 'a');
      const b = await issueToken(store, 'b');
      const expired = await issueToken(store, 'old', Date.now() - 1);
      const later = await issueToken(store, 'later', Date.now() + 3_600_000);
      assert.equal(await store.clientByTokenHash(hashToken(expired.token)), null, 'an expired token');
      assert.equal((await store.clientByTokenHash(hashToken(later.token)))?.id, later.client.id, 'a token before its expiry');
      assert.equal((await store.clientByTokenHash(hashToken(a.token)))?.id, 0);
      assert.equal(await other.revokeClient(a.client.id), true);
      assert.equal(await store.clientByTokenHash(hashToken(a.token)), null, 'revoked through another connection: refused at the next lookup');
      assert.equal(await other.revokeClient(a.client.id), true, 'revoking twice is fine');
      assert.equal(await other.revokeClient(99), false, 'no such client');
      assert.equal(await other.revokeToken(hashToken(b.token)), b.client.id);
      assert.equal(await store.clientByTokenHash(hashToken(b.token)), null);
      assert.equal(await other.revokeToken(hashToken('never issued')), null);
      assert.equal(await store.clientCount(), 4, 'revoked clients keep their ids (selection and fold order unchanged)');
      assert.equal((await issueToken(store)).client.id, 4);
    } finally {
      await other.close();
      await store.close();
    }
  });

  test(`${name}: protocol messages are kept per (round, phase, client) while the round is open, ordered by client, and dropped when it closes`, async () => {
    const f = fx();
    const store = await f.open(await f.fresh());
    try {
      assert.ok(store.putProtocolMessage && store.protocolMessages, 'both stores keep protocol messages (secure aggregation)');
      const put = store.putProtocolMessage.bind(store);
      const list = store.protocolMessages.bind(store);
      await store.initialise(Uint8Array.from([0]), null, round(1));
      assert.equal(await put(1, 'keys', 3, Uint8Array.from([3])), 'added');
      assert.equal(await put(1, 'keys', 1, Uint8Array.from([1])), 'added');
      assert.equal(await put(1, 'shares', 1, Uint8Array.from([11])), 'added');
      assert.equal(await put(1, 'keys', 3, Uint8Array.from([9])), 'duplicate');
      assert.equal(await put(2, 'keys', 1, Uint8Array.from([1])), 'round-not-open');
      assert.deepEqual((await list(1, 'keys')).map((m) => [m.clientId, ...m.body]), [[1, 1], [3, 3]]);
      assert.deepEqual((await list(1, 'shares')).map((m) => [m.clientId, ...m.body]), [[1, 11]]);
      assert.deepEqual(await list(1, 'masked'), []);
      assert.equal(await store.closeRound(1, () => ({ ...folded(1, [1]), next: round(2) })), 'closed');
      assert.deepEqual(await list(1, 'keys'), [], 'closeRound drops the round\'s messages');
      assert.equal(await put(1, 'keys', 5, Uint8Array.from([5])), 'round-not-open', 'never stored for a closed round');
      assert.equal(await put(2, 'keys', 2, Uint8Array.from([2])), 'added');
      await store.completeRound({ round: 2, clients: 0, loss: 0, closedAt: 2 }, Uint8Array.from([2]), null, null);
      assert.deepEqual(await list(2, 'keys'), [], 'completeRound drops them too');
    } finally {
      await store.close();
    }
  });
}
