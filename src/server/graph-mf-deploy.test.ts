/**
 * MF under graph aggregation deployed (GPFedRec with an MF client: src/algorithms/graph.ts,
 * graph-mf-device.ts): a real coordinator (SQLite file, HTTP) with in-process participants over
 * HTTP, one synthetic user each. After 3 rounds the coordinator's θ and every client's personal
 * rows (GET /v1/personal) equal the simulation's (`runMfGraphTraining`) bit for bit, and the
 * devices' own sampled metrics (p_u, b_u and R_u on the device), summed over devices, equal the
 * simulation's evaluation of the same round. An upload carrying a user vector is refused in one line.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePersonal } from '../algorithms/graph-device.js';
import { runMfGraphTraining } from '../recipes/mf-graph-experiment.js';
import { clientNegativeSource } from '../federated/client-work.js';
import { deviceScorer, sampledSums } from '../client/on-device.js';
import { deviceLocalTables } from '../client/works.js';
import type { RoundPlan } from '../federated/types.js';
import { encodeUpdate } from '../wire/messages.js';
import { deployInProcess, runParticipants } from './in-process-deployment.js';
import type { RunningCoordinator } from './serve.js';
import { fetchModel, maxAbsDiff, tempDir } from './testing.js';

const dirs: ReturnType<typeof tempDir>[] = [];
const servers: RunningCoordinator[] = [];
after(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  for (const d of dirs) d.remove();
});

test('MF graph aggregation: coordinator + 6 participants over HTTP, 3 rounds; θ, personal rows and on-device metrics equal the simulation', { timeout: 120_000 }, async () => {
  const dir = tempDir('graph-mf-deploy');
  dirs.push(dir);
  const training = {
    syntheticUsers: 6, syntheticItems: 300, syntheticInteractions: 360, model: 'mf', algorithm: 'graph',
    dim: 8, rounds: 3, clientsPerRound: 4, neighbors: 3, seed: 17, eval: ['sampled'], k: [50], evalEvery: 1000, select: 'last',
  };
  const { c, server, tokens, participants, files } = await deployInProcess(dir.path, training, { roundDeadlineSeconds: 300 });
  servers.push(server);
  assert.equal(files.length, 6);
  assert.equal(c.lambda, 0.1);

  // An upload with a user vector is refused: MF users send their item rows only (the similarity reads those).
  await server.coordinator.tick();
  const first = await fetch(`${server.url}/v1/round`, { headers: { authorization: `Bearer ${tokens[0]}` } });
  const info = (await first.json()) as { status: string; clientId: number; algorithm: string; plan: Record<string, unknown> };
  assert.equal(info.status, 'train');
  assert.equal(info.algorithm, 'graph');
  assert.deepEqual(info.plan.graphMf, { lambda: 0.1 });
  const vectorUser = { user: 0, weightVector: new Float32Array(4), rows: new Int32Array([3]), itemRows: new Float32Array(9), weight: 1 };
  const refused = await fetch(`${server.url}/v1/update`, {
    method: 'POST', headers: { authorization: `Bearer ${tokens[info.clientId]}`, 'content-type': 'application/octet-stream' },
    body: encodeUpdate({ round: 1, weight: 1, loss: 0, rows: new Int32Array(0), itemTables: { item: new Float32Array(0) }, denseTables: { globalBias: new Float32Array(1) }, users: [vectorUser] } as never) as unknown as BodyInit,
  });
  const refusedBody = (await refused.json()) as { error: string; message: string };
  assert.equal(refused.status, 422, JSON.stringify(refusedBody));
  assert.match(refusedBody.message, /user 0: vec\(W_u\) has 4 values, expected 0/);

  const last = await runParticipants(participants, undefined, 100_000);
  assert.ok(last.every((i) => i.status === 'done'));
  assert.equal(server.coordinator.status().completedRounds, 3);

  const deployed = await fetchModel(server.url, tokens[0]);
  const sim = await runMfGraphTraining(c);
  const diff = maxAbsDiff(deployed.global, sim.global as Record<string, Float32Array>);
  assert.deepEqual(Object.keys(deployed.global).sort(), ['globalBias', 'item']);
  let personalDiff = 0;
  let personalRows = 0;
  for (let k = 0; k < files.length; k++) {
    const res = await fetch(`${server.url}/v1/personal`, { headers: { authorization: `Bearer ${tokens[k]}` } });
    const mine = decodePersonal(new Uint8Array(await res.arrayBuffer()), c.dim + 1).get(0) ?? null;
    const expected = sim.personal(k); // one user per client: client k holds dense user k
    assert.equal(mine === null, expected === null, `client ${k}: personal rows present on one side only`);
    if (!mine || !expected) continue;
    assert.deepEqual([...mine.rows], [...expected.rows]);
    personalRows += mine.rows.length;
    for (let j = 0; j < mine.delta.length; j++) personalDiff = Math.max(personalDiff, Math.abs(mine.delta[j] - expected.delta[j]));
  }

  // Evaluation on the devices: each scores its own user with p_u, b_u and R_u; the sums are the simulation's metrics.
  let count = 0;
  let hits = 0; // NDCG@50 sums
  for (const p of participants) {
    const final = await p.finalModel();
    const data = p.data();
    const plan = { ...final.info.plan, round: final.info.round } as unknown as RoundPlan;
    const local = deviceLocalTables(final.info.algorithm, plan, final.global, data, p.state, clientNegativeSource(final.info.nItems, data), final.device);
    const sums = sampledSums(deviceScorer(final.info, final.global, local, data, final.info.nItems, final.device), p.local.evaluation, 'validation', [50]);
    count += sums.count;
    hits += sums.sums['NDCG@50'] ?? 0;
  }
  const simHr = (sim.result.metrics.validation as Record<string, Record<string, number>>).sampled['NDCG@50'];
  process.stdout.write(`# MF graph aggregation: max |Δθ| coordinator vs simulation ${diff}; personal rows ${personalRows}, max |ΔΔ_u| ${personalDiff}; validation NDCG@50 devices ${hits / count} simulation ${simHr}\n`);
  assert.equal(diff, 0, `the deployed model differs from the simulation's by ${diff}`);
  assert.ok(personalRows > 0);
  assert.equal(personalDiff, 0, `the deployed personal rows differ from the simulation's by ${personalDiff}`);
  assert.equal(count, 6);
  assert.ok(simHr > 0);
  assert.ok(Math.abs(hits / count - simHr) < 1e-12, `devices ${hits / count}, simulation ${simHr}`);
});
