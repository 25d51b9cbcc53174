/** One protocol for every model (docs/evaluation.md): what a run reports by default and what it refuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrainConfig } from './config.js';
import { loadConfiguredSplit } from './configured-data.js';
import { generateSynthetic } from '../data/synthetic.js';
import { leaveOneOut } from '../data/split.js';
import { writeSplitFiles } from '../data/split-files.js';

test('full ranking is reported on ratio splits only: the default eval follows the split, full on leave-one-out is refused', async () => {
  assert.deepEqual(parseTrainConfig({}).eval, ['sampled']);
  assert.deepEqual(parseTrainConfig({ model: 'text-graph' }).eval, ['sampled']);
  assert.deepEqual(parseTrainConfig({ split: 'ratio:0.8,0.1,0.1' }).eval, ['sampled', 'full']);
  assert.deepEqual(parseTrainConfig({ split: 'ratio:0.8,0.1,0.1', eval: ['full'] }).eval, ['full']);
  for (const raw of [{ eval: ['full'] }, { eval: ['sampled', 'full'], model: 'ncl' }, { eval: ['full'], algorithm: 'fedrecon', feedback: 'implicit' }]) {
    assert.throws(() => parseTrainConfig(raw), /eval: full ranking is reported on ratio splits only/);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-protocol-'));
  try {
    const ds = generateSynthetic({ users: 30, items: 300, interactions: 900, seed: 1 });
    writeSplitFiles(ds, leaveOneOut(ds, { seed: 1 }), dir);
    await assert.rejects(loadConfiguredSplit(parseTrainConfig({ splitFiles: dir, eval: ['full'] })), /full ranking is reported on ratio splits only; the split files hold a leave-one-out-time split/);
    assert.equal((await loadConfiguredSplit(parseTrainConfig({ splitFiles: dir }))).split.method, 'leave-one-out-time');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
