/**
 * Federated LightGCN / NCL (He et al., SIGIR 2020; Lin et al., WWW 2022) deployed with secure aggregation (server/secure-round.ts,
 * Bell et al., CCS 2020): an in-process coordinator with `coordinator.secureAggregation` (SQLite file,
 * HTTP) and 6 in-process participants, one ego-graph each (NCL with prototypes from round 2). The item table after the secure rounds
 * equals the graph simulation folding the same fixed-point ring sum (recipes/graph-federated.ts with
 * `secureSum`) and the plain simulation bit for bit, without DP, and with distributed user-level DP (seeded noise, so that the
 * two runs draw the same); the coordinator charges the simulation's ε (z·√τ).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { runTraining } from '../recipes/experiment.js';
import { DEFAULT_CLIP } from '../secagg/settings.js';
import { deployInProcess, runParticipants } from './in-process-deployment.js';
import type { RunningCoordinator } from './serve.js';
import { fetchModel, maxAbsDiff, tempDir } from './testing.js';

const dirs: ReturnType<typeof tempDir>[] = [];
const servers: RunningCoordinator[] = [];
after(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  for (const d of dirs) d.remove();
});

const CASES: readonly { model: 'lightgcn' | 'ncl'; name: string; training: Record<string, unknown> }[] = [
  { model: 'lightgcn', name: 'plain', training: { clientsPerRound: 4 } },
  { model: 'lightgcn', name: 'distributed DP', training: { dpClip: 0.5, dpNoiseMultiplier: 1, dpDelta: 1e-3, fraction: 0.9, dpMode: 'distributed', dpNoise: 'seeded' } },
  { model: 'ncl', name: 'plain', training: { clientsPerRound: 4, rounds: 3, clusters: 4, warmUp: 1, kmeansIterations: 5 } },
];
for (const { model, name, training: extra } of CASES) {
  test(`federated ${model} with secure aggregation (${name}): 6 participants over HTTP, ${extra.rounds ?? 2} rounds; the item table equals the secure-sum simulation`, { timeout: 180_000 }, async () => {
    const dir = tempDir(`${model}-secure-${name.replace(/ /g, '-')}`);
    dirs.push(dir);
    const training = {
      syntheticUsers: 6, syntheticItems: 400, syntheticInteractions: 360, model, mode: 'federated', split: 'loo',
      dim: 8, gcnLayers: 2, rounds: 2, seed: 17, eval: ['sampled'], k: [10], evalEvery: 1000, select: 'last', ...extra,
    };
    const secureAggregation = { threshold: 0.6 };
    const { c, server, tokens, participants, files } = await deployInProcess(dir.path, training, { roundDeadlineSeconds: 120, secureAggregation });
    servers.push(server);
    assert.equal(files.length, 6);
    const last = await runParticipants(participants, undefined, 150_000);
    assert.ok(last.every((i) => i.status === 'done'));
    assert.equal(server.coordinator.status().completedRounds, c.rounds);

    const deployed = await fetchModel(server.url, tokens[0]);
    const sim = await runTraining(c, undefined, { secureSum: { clip: DEFAULT_CLIP, threshold: secureAggregation.threshold } });
    const diff = maxAbsDiff(deployed.global, { itemEmb: sim.model.params.global.itemEmb });
    process.stdout.write(`# federated ${model}, secure aggregation (${name}): max |Δθ| coordinator vs secure-sum simulation ${diff}\n`);
    assert.equal(diff, 0, `the deployed item table differs from the secure-sum simulation's by ${diff}`);
    if (c.dpClip === undefined) {
      // the plain simulation: equal within the fixed-point rounding
      const plain = maxAbsDiff(deployed.global, { itemEmb: (await runTraining(c)).model.params.global.itemEmb });
      process.stdout.write(`# vs the plain simulation ${plain}\n`);
      assert.ok(plain < 1e-5, `plain vs secure ${plain}`);
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`fedrec_secure_rounds_total\\{outcome="aggregated"\\} ${c.rounds}`));
    if (c.dpClip !== undefined) {
      const spent = server.coordinator.privacy();
      assert.ok(spent?.accountedNoiseMultiplier !== undefined && spent.accountedNoiseMultiplier < 1, 'ε is charged at z·√τ');
      assert.equal(spent?.epsilon, sim.result.privacy?.epsilon, 'the coordinator charges the simulation\'s ε');
    }
  });
}
