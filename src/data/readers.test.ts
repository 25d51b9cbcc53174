import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from './errors.js';
import { loadDataset } from './readers.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fedrec-readers-'));
}

/** Writes `files` (name → content; Buffers kept byte for byte) into a new folder. */
function folderWith(files: Record<string, string | Buffer>): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

const ML100K_ITEM_LATIN1 = Buffer.from(
  [
    `1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0`,
    `2|Misérables, Les (1995)|01-Jan-1995||http://y|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|1|0`,
  ].join('\n') + '\n',
  'latin1',
);

async function rejectsWith(promise: Promise<unknown>, message: string): Promise<DataError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
    assert.equal(error.message, message);
    return error;
  }
  assert.fail(`expected an error: ${message}`);
}

test('ml-100k folder: ratings, Latin-1 titles, genres from u.genre, user side info', async () => {
  const dir = folderWith({
    'u.data': '196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t5\t881250950\n',
    'u.user': '196|49|M|writer|55105\n186|39|F|executive|00000\n',
    'u.item': ML100K_ITEM_LATIN1,
    'u.genre': 'unknown|0\nAction|1\nAdventure|2\nAnimation|3\nChildren\'s|4\nComedy|5\nCrime|6\nDocumentary|7\nDrama|8\nFantasy|9\nFilm-Noir|10\nHorror|11\nMusical|12\nMystery|13\nRomance|14\nSci-Fi|15\nThriller|16\nWar|17\nWestern|18\n\n',
  });
  const ds = await loadDataset({ path: dir });
  assert.equal(ds.name, 'ml-100k');
  assert.equal(ds.nUsers, 2);
  assert.equal(ds.nItems, 2);
  assert.deepEqual(ds.userIds, ['186', '196']); // raw-id order, not the order of the rows
  assert.deepEqual(ds.itemIds, ['242', '302']);
  assert.deepEqual([...ds.interactions.ratings!], [3, 3, 5]);
  assert.deepEqual([...ds.interactions.timestamps!], [891717742, 881250949, 881250950]);
  assert.deepEqual(ds.side.users?.get('186'), { age: '39', gender: 'F', occupation: 'executive', zip: '00000' });
  assert.equal(ds.side.items?.get('2')?.title, 'Misérables, Les (1995)');
  assert.equal(ds.side.items?.get('2')?.genres, 'Drama|War');
  assert.equal(ds.side.items?.get('1')?.genres, "Animation|Children's|Comedy");
});

test('u.data file path works and the rating threshold applies', async () => {
  const dir = folderWith({ 'u.data': '1\t10\t5\t100\n1\t11\t2\t101\n2\t11\t4\t102\n' });
  const ds = await loadDataset({ path: join(dir, 'u.data'), ratingThreshold: 4 });
  assert.equal(ds.name, 'ml-100k');
  assert.deepEqual(ds.itemIds, ['10', '11']);
  assert.deepEqual([...ds.interactions.ratings!], [5, 4]);
  assert.deepEqual(ds.side, {});
});

test('ml-1m folder: ratings.dat, users.dat codes mapped, Latin-1 movies.dat', async () => {
  const dir = folderWith({
    'ratings.dat': '1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n',
    'users.dat': '1::F::1::10::48067\n2::M::56::16::70072\n',
    'movies.dat': Buffer.from('1193::One Flew Over the Cuckoo\'s Nest (1975)::Drama\n661::Misérables, Les (1995)::Drama|Musical\n', 'latin1'),
  });
  const ds = await loadDataset({ path: dir });
  assert.equal(ds.name, 'ml-1m');
  assert.equal(ds.interactions.users.length, 3);
  assert.deepEqual(ds.itemIds, ['661', '1193']); // numeric ids: numeric order
  assert.deepEqual(ds.side.users?.get('1'), { age: 'Under 18', gender: 'F', occupation: 'K-12 student', zip: '48067' });
  assert.deepEqual(ds.side.users?.get('2'), { age: '56+', gender: 'M', occupation: 'self-employed', zip: '70072' });
  assert.deepEqual(ds.side.items?.get('661'), { title: 'Misérables, Les (1995)', genres: 'Drama|Musical' });
});

test('a ratings.dat file is detected from its first line', async () => {
  const dir = folderWith({ 'ratings.dat': '1::5::3::10\n' });
  const ds = await loadDataset({ path: join(dir, 'ratings.dat') });
  assert.equal(ds.name, 'ml-1m');
  assert.deepEqual([...ds.interactions.timestamps!], [10]);
});

test('MovieLens ratings.csv: header detected and skipped, columns read from it', async () => {
  const dir = folderWith({ 'ratings.csv': 'userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n' });
  const ds = await loadDataset({ path: join(dir, 'ratings.csv') });
  assert.equal(ds.name, 'ratings');
  assert.deepEqual(ds.userIds, ['1']);
  assert.deepEqual(ds.itemIds, ['31', '1029']);
  assert.deepEqual([...ds.interactions.ratings!], [2.5, 3]);
  const fromFolder = await loadDataset({ path: dir, name: 'ml-latest-small' });
  assert.equal(fromFolder.name, 'ml-latest-small');
  assert.equal(fromFolder.interactions.users.length, 2);
});

test('custom columns and separator, with skipped columns and a header', async () => {
  const dir = folderWith({ 'plays.txt': 'artist;ignored;listener;when\na1;x;l1;100\na2;y;l1;50\na1;z;l2;70\n' });
  const ds = await loadDataset({ path: join(dir, 'plays.txt'), columns: ['item', 'skip', 'user', 'timestamp'], sep: ';' });
  assert.equal(ds.name, 'plays');
  assert.deepEqual(ds.userIds, ['l1', 'l2']);
  assert.deepEqual(ds.itemIds, ['a1', 'a2']);
  assert.deepEqual([...ds.interactions.timestamps!], [100, 50, 70]);
  assert.equal(ds.interactions.ratings, null);
});

test("'' is an ignored column; .tsv means tab-separated", async () => {
  const dir = folderWith({ 'log.tsv': 'u1\t\ti1\nu2\tq\ti1\n' });
  const ds = await loadDataset({ path: join(dir, 'log.tsv'), columns: ['user', '', 'item'] });
  assert.deepEqual(ds.userIds, ['u1', 'u2']);
  assert.deepEqual(ds.itemIds, ['i1']);
});

test('implicit user,item pairs without timestamps (header-less and with a named header)', async () => {
  const dir = folderWith({ 'pairs.csv': 'alice,book1\nbob,book2\nalice,book2\n', 'named.tsv': 'user_id:token\titem_id:token\n7\t8\n' });
  const ds = await loadDataset({ path: join(dir, 'pairs.csv') });
  assert.deepEqual(ds.userIds, ['alice', 'bob']);
  assert.equal(ds.interactions.users.length, 3);
  assert.equal(ds.interactions.ratings, null);
  assert.equal(ds.interactions.timestamps, null);
  const named = await loadDataset({ path: join(dir, 'named.tsv') });
  assert.deepEqual(named.userIds, ['7']);
  assert.deepEqual(named.itemIds, ['8']);
});

test('a tab on the first line selects tab separation for other extensions', async () => {
  const dir = folderWith({ 'data.txt': '1\t2\t4\n3\t2\t5\n' });
  const ds = await loadDataset({ path: join(dir, 'data.txt') });
  assert.deepEqual([...ds.interactions.ratings!], [4, 5]);
});

test('malformed lines name the file, the line and what was expected', async () => {
  const dir = folderWith({
    'u.data': '1\t2\t3\t100\n1\t3\t4\n',
    'bad-id.dat': '1::2::3::4\nx::2::3::4\n',
    'ratings.dat': '1::2::3::4\n1::3::4::5\n1::4::NaN::6\n',
    'time.csv': 'u,i,r,t\n1,2,3,yesterday\n',
    'empty.csv': '',
  });
  const short = await rejectsWith(loadDataset({ path: dir }), 'u.data line 2: expected 4 tab-separated fields (user, item, rating, timestamp), got 3');
  assert.equal(short.file, join(dir, 'u.data'));
  assert.equal(short.line, 2);
  await rejectsWith(loadDataset({ path: join(dir, 'bad-id.dat') }), "bad-id.dat line 2: expected a numeric user id, got 'x'");
  await rejectsWith(loadDataset({ path: join(dir, 'ratings.dat') }), "ratings.dat line 3: expected a finite number for rating, got 'NaN'");
  await rejectsWith(
    loadDataset({ path: join(dir, 'time.csv'), columns: ['user', 'item', 'rating', 'timestamp'] }),
    "time.csv line 2: expected a timestamp (a number or an ISO-8601 date such as 2024-05-01T12:30:00Z), got 'yesterday'",
  );
  await rejectsWith(loadDataset({ path: join(dir, 'empty.csv') }), 'empty.csv: empty file: expected interaction rows');
  await rejectsWith(loadDataset({ path: join(dir, 'missing.csv') }), 'missing.csv: not found: expected a ratings file or a MovieLens folder');
  const emptyFolder = join(dir, 'nothing');
  mkdirSync(emptyFolder);
  await rejectsWith(loadDataset({ path: emptyFolder }), 'nothing: expected a folder holding u.data or ratings.dat or ratings.csv');
});

test('malformed side-info lines are errors too', async () => {
  const dir = folderWith({ 'u.data': '1\t2\t3\t100\n', 'u.user': '1|24|M|technician\n' });
  await rejectsWith(loadDataset({ path: dir }), "u.user line 1: expected 5 '|'-separated fields (user id, age, gender, occupation, zip code), got 4");
});

test('a rating threshold on data without ratings is an error', async () => {
  const dir = folderWith({ 'pairs.csv': '1,2\n' });
  await rejectsWith(loadDataset({ path: join(dir, 'pairs.csv'), ratingThreshold: 4 }), 'pairs.csv: a rating threshold (4) was given but the file has no rating column');
});

test('bad column names are rejected', async () => {
  const dir = folderWith({ 'pairs.csv': '1,2\n' });
  await assert.rejects(loadDataset({ path: join(dir, 'pairs.csv'), columns: ['user', 'movie'] }), /unknown column 'movie'/);
  await assert.rejects(loadDataset({ path: join(dir, 'pairs.csv'), columns: ['user', 'skip'] }), /one 'item' column is required/);
});
