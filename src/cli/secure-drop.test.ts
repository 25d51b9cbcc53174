/**
 * Secure aggregation on the command line: `fedrec join --secure-drop ROUND:PHASE,…` (fault
 * injection for the deployed tests) and `fedrec serve` with secure aggregation on an algorithm it
 * does not cover: bad input is one line, exit 2, no stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSecureDrop } from './join.js';

const bin = resolve(fileURLToPath(import.meta.url), '../../../bin/fedrec.js');

function refused(args: string[], pattern: RegExp): void {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
  assert.match(lines[0], pattern);
}

test('--secure-drop: rounds map to phases; a malformed or repeated entry is one clear line, exit 2', () => {
  const drop = parseSecureDrop(['1:masked', '3:unmask']);
  assert.ok(drop);
  assert.equal(drop(1), 'masked');
  assert.equal(drop(2), undefined);
  assert.equal(drop(3), 'unmask');
  assert.equal(parseSecureDrop(undefined), undefined);
  const base = ['join', '--server', 'http://127.0.0.1:9', '--token', 't', '--data', 'absent.json'];
  refused([...base, '--secure-drop', '1:bogus'], /^fedrec join: --secure-drop: '1:bogus' is not ROUND:PHASE \(a round ≥ 1 and one of keys, shares, masked, unmask\)$/);
  refused([...base, '--secure-drop', '0:keys'], /--secure-drop: '0:keys' is not ROUND:PHASE/);
  refused([...base, '--secure-drop', '2:keys,2:masked'], /--secure-drop: round 2 is named twice$/);
});

test('fedrec serve refuses secure aggregation for an algorithm whose server is not the weighted mean', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-secure-cli-'));
  try {
    const config = join(dir, 'c.json');
    writeFileSync(config, JSON.stringify({
      training: { algorithm: 'ials', syntheticUsers: 30, syntheticItems: 50, syntheticInteractions: 300 },
      coordinator: { minClients: 2, secureAggregation: { threshold: 0.6 } },
    }));
    refused(['serve', '--config', config, '--db', join(dir, 'c.db'), '--port', '0'], /secureAggregation: works with the weighted-mean servers of algorithms 'fedavg' and 'fedrecon' .*not algorithm 'ials'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
