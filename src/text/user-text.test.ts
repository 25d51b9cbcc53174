/** User text: the side-information template and the user,text CSV reader. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readUserTextFile, userTextFromSide, userTexts } from './user-text.js';
import { generateSynthetic } from '../data/synthetic.js';

test('template: ML-100K and ML-1M records', () => {
  assert.equal(userTextFromSide({ age: '24', gender: 'M', occupation: 'technician', zip: '85711' }), 'A 24-year-old male technician from the Mountain West of the US.');
  assert.equal(userTextFromSide({ age: '18-24', gender: 'F', occupation: 'writer', zip: '02139' }), 'An 18-24-year-old female writer from New England and Puerto Rico of the US.');
  assert.equal(userTextFromSide({ age: '33', gender: 'F', occupation: 'other', zip: 'T8H1N' }), 'A 33-year-old female other from outside the US.');
});

test('CSV: header, quotes, commas and errors naming file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-ut-'));
  try {
    const file = join(dir, 'texts.csv');
    writeFileSync(file, 'user,text\n1,"Likes films, mostly ""noir"""\n2,plain text\n');
    assert.deepEqual([...readUserTextFile(file)], [['1', 'Likes films, mostly "noir"'], ['2', 'plain text']]);
    writeFileSync(file, '1,a\n2,b,c\n');
    assert.throws(() => readUserTextFile(file), new RegExp(`${file}:2: expected 2 fields`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('userTexts: file overrides the template; missing text is an error naming users', () => {
  const ds = generateSynthetic({ users: 20, items: 50, interactions: 200, seed: 1 });
  const texts = userTexts(ds, new Map([['1', 'custom']]));
  assert.equal(texts[0], 'custom');
  assert.match(texts[1], /-year-old/);
  assert.throws(() => userTexts({ ...ds, side: {} }), /no text for 20 user\(s\).*--user-text/);
});
