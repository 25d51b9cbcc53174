/**
 * Hostile clients against a default-config coordinator (issue 19): ten clients over real HTTP, one
 * of them an attacker (the others run the real client work); for each attack the honest clients'
 * test HR@10 after the run stays within 0.02 of the run without an attacker. Attacks: an update
 * × 1e30, +1 on every row claiming weight 10⁶, NaN values, a loss of 1e308 with weight 10⁶, a
 * boosted sign flip and a targeted push of one item (bench/attacks.ts crafts them).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { craftUpdate, targetItem, type AttackKind } from '../bench/attacks.js';
import { evaluateRanking } from '../eval/ranking.js';
import { createModel } from '../models/registry.js';
import { clientNegativeSource, runClientRound } from '../federated/client-work.js';
import type { ClientState, GlobalUpdate, RoundPlan } from '../federated/types.js';
import { partitionClients } from '../federated/partition.js';
import { loadConfiguredDataset, splitDataset } from '../recipes/experiment.js';
import { assembleLocalTables } from '../simulation/simulation.js';
import { decodeModel, encodeUpdate } from '../wire/messages.js';
import { parseServerConfig } from './config.js';
import { startCoordinator } from './serve.js';
import { issueToken } from './tokens.js';
import { sleep, tempDir } from './testing.js';

const TRAINING = { syntheticUsers: 200, syntheticItems: 300, syntheticInteractions: 8000, usersPerClient: 20, rounds: 12, seed: 5, eval: ['sampled'], k: [10] };
const dirs: ReturnType<typeof tempDir>[] = [];
after(() => dirs.forEach((d) => d.remove()));

type Attack = AttackKind | 'loss';

async function run(attack: Attack): Promise<{ hr: number; statuses: number[] }> {
  const dir = tempDir('attack');
  dirs.push(dir);
  // the default coordinator's defences; only the round timing is set, so that every round holds the
  // same honest updates: all ten clients must answer, or (attacks refused at the door) a quorum of
  // the nine honest ones closes the round at a short deadline
  const refused = attack === 'nonfinite' || attack === 'loss';
  const coordinator = refused ? { minClients: 9, roundDeadlineSeconds: 0.5, tickMs: 50 } : { minClients: 10, roundDeadlineSeconds: 600 };
  const config = parseServerConfig({ training: TRAINING, coordinator: { ...coordinator, maxDeadlineExtensions: 100_000 } });
  const t = config.training;
  const split = splitDataset(await loadConfiguredDataset(t), t.split, t.seed);
  const clients = partitionClients(split, t.usersPerClient, t.seed);
  const server = await startCoordinator({ config, dbPath: join(dir.path, 'c.db'), port: 0, buildBundle: false });
  const statuses: number[] = [];
  try {
    const tokens = await Promise.all(clients.map(async () => (await issueToken(server.store)).token));
    await server.coordinator.tick();
    const attacker = 3;
    const target = targetItem(split);
    const states: (ClientState | null)[] = clients.map(() => null);
    const samplers = clients.map((c) => clientNegativeSource(split.nItems, c));
    const auth = (k: number) => ({ authorization: `Bearer ${tokens[k]}` });
    for (let round = 1; round <= t.rounds; round++) {
      const model = decodeModel(new Uint8Array(await (await fetch(`${server.url}/v1/model`, { headers: auth(0) })).arrayBuffer()));
      assert.equal(model.version, round - 1);
      // the attacker answers last: the round may close at its deadline with the nine honest updates
      for (const k of [...clients.keys()].filter((c) => c !== attacker).concat(attacker)) {
        const info = (await (await fetch(`${server.url}/v1/round`, { headers: auth(k) })).json()) as { status: string; plan: RoundPlan };
        assert.equal(info.status, 'train', `${attack}: round ${round}, client ${k}: ${JSON.stringify(info).slice(0, 100)} ${JSON.stringify((await server.store.closedRounds()).slice(-3))}`);
        const honest = runClientRound(info.plan, model.global, clients[k], states[k], samplers[k]);
        states[k] = honest.state;
        let update: GlobalUpdate = honest.update;
        if (k === attacker && attack !== 'none') {
          update = attack === 'loss' ? { ...honest.update, loss: 1e308, weight: 1e6 } : craftUpdate(attack, honest.update, model.global, split.nItems, target);
        }
        const res = await fetch(`${server.url}/v1/update`, { method: 'POST', headers: { ...auth(k), 'content-type': 'application/octet-stream' }, body: encodeUpdate(update) as unknown as BodyInit });
        const answer = await res.text();
        if (k === attacker) statuses.push(res.status);
        else assert.equal(res.status, 200, `${attack}, round ${round}, client ${k}: ${answer} ${JSON.stringify((await server.store.closedRounds()))} ${JSON.stringify(server.coordinator.status())}`);
      }
      while (server.coordinator.status().completedRounds < round) await sleep(50);
    }
    const final = decodeModel(new Uint8Array(await (await fetch(`${server.url}/v1/model`, { headers: auth(0) })).arrayBuffer()));
    const honestIds = clients.filter((c) => c.clientId !== attacker);
    const local = assembleLocalTables(config.training.model === 'mf' ? { kind: 'mf', dim: t.dim } : { kind: 'mf', dim: t.dim }, split.nUsers, t.seed,
      honestIds.map((c) => ({ users: c.users, local: (states[c.clientId] as ClientState).local })));
    const scorer = createModel({ kind: 'mf', dim: t.dim }, split.nUsers, split.nItems, { global: final.global, local });
    const users = Int32Array.from(honestIds.flatMap((c) => [...c.users]));
    return { hr: evaluateRanking(scorer, split, { part: 'test', protocols: ['sampled'], ks: [10], users }).sampled?.['HR@10'] ?? Number.NaN, statuses };
  } finally {
    await server.close();
  }
}

/*
 * Measured (docs/robustness.md): refused attacks leave exactly the nine honest clients' run; the
 * 1e30 update is clipped to the (adaptive) bound and weighs like any client. Here the two
 * baselines (ten honest clients / the nine alone) are already 0.04 apart, so this small test cannot
 * resolve the 0.02 target; the +1-everywhere (weight 10⁶) attack is NOT neutralised (0.289 against
 * 0.378 / 0.339: one client of ten touching every one of 300 items), the boosted sign flip gives
 * 0.333 (−0.045 / −0.006): printed, not asserted. The ML-100K bench (`npm run bench -- attacks`) measures the target.
 */
test('one attacker of ten against a default-config coordinator: NaN and 1e308-loss updates have no effect, a 1e30 update no more than a client', { timeout: 600_000 }, async () => {
  const clean = await run('none');
  const rows: string[] = [`none ${clean.hr.toFixed(4)}`];
  const results: Partial<Record<Attack, number>> = {};
  for (const attack of ['nonfinite', 'loss', 'scaled', 'weight', 'signflip', 'targeted'] as const) {
    const r = await run(attack);
    results[attack] = r.hr;
    rows.push(`${attack} ${r.hr.toFixed(4)} (attacker got ${[...new Set(r.statuses)].join('/')})`);
    if (attack === 'nonfinite' || attack === 'loss') {
      assert.ok(r.statuses.includes(422) && r.statuses.every((s) => s === 422 || s === 409), r.statuses.join(','));
    }
  }
  process.stdout.write(`# honest HR@10 by attack: ${rows.join('; ')}\n`);
  const alone = results.nonfinite as number; // the attacker refused every round: the nine honest clients alone
  assert.equal(results.loss, alone, rows.join('\n'));
  // 180 honest users: one user is 0.0056 of HR@10; the clipped 1e30 update does no more harm than
  // the attacker's absence, within 0.02
  assert.ok((results.scaled as number) >= Math.min(clean.hr, alone) - 0.02, rows.join('\n'));
});
