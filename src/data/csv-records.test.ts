/** General CSV/TSV through csv-parse: quoted fields, separators inside quotes, ISO-8601 timestamps. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from './errors.js';
import { loadDataset } from './readers.js';

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'fedrec-csv-')), name);
  writeFileSync(path, text);
  return path;
}

test('quoted fields, commas and quotes inside quotes, a byte-order mark and CRLF are read', async () => {
  const path = file('quoted.csv', '\uFEFF"user","item","title","rating","timestamp"\r\n' +
    '"1","3","Toy Story, The (1995)","5","100"\r\n' +
    '1,4,"He said ""hi""",4,101\r\n' +
    '"2","3","multi\nline title",3,102\r\n');
  const ds = await loadDataset({ path, columns: ['user', 'item', 'skip', 'rating', 'timestamp'] });
  assert.equal(ds.nUsers, 2);
  assert.equal(ds.nItems, 2);
  assert.deepEqual([...ds.userIds], ['1', '2']);
  assert.deepEqual([...ds.itemIds].sort(), ['3', '4']);
  assert.equal(ds.interactions.users.length, 3);
  // a header with quoted names is recognised without --columns
  const named = await loadDataset({ path: file('named.csv', '"userId","itemId","rating"\n"7","8","4"\n') });
  assert.deepEqual([...named.userIds], ['7']);
});

test('ISO-8601 timestamps are read as seconds and order the interactions like Unix times', async () => {
  const iso = await loadDataset({ path: file('iso.csv', 'user,item,timestamp\n1,10,2024-05-01T12:00:00Z\n1,11,2024-05-01T12:00:30Z\n1,12,2024-05-02\n') });
  const unix = await loadDataset({ path: file('unix.csv', 'user,item,timestamp\n1,10,1714564800\n1,11,1714564830\n1,12,1714608000\n') });
  assert.deepEqual([...iso.interactions.timestamps!], [...unix.interactions.timestamps!]);
});

test('a malformed CSV is a DataError naming the file and line', async () => {
  const path = file('broken.csv', 'user,item\n1,2\n"3,4\n');
  await assert.rejects(loadDataset({ path }), (err: unknown) => err instanceof DataError && /^broken\.csv line \d+: malformed CSV/.test(err.message));
});
