/**
 * Split files out and in (design/EVALUATION.md "Split files"), so that numbers can be compared with
 * other tools on identical test sets.
 *
 * fedrec format (a folder, raw ids):
 *   train.tsv, validation.tsv (optional), test.tsv   `user<TAB>item[<TAB>rating][<TAB>timestamp]`
 *                                                    (a header line names the columns when there
 *                                                    are timestamps but no ratings; else none)
 *   test.negatives.tsv, validation.negatives.tsv     `user<TAB>neg1<TAB>…<TAB>negN`
 *   split.json (optional)                            data set name, split method and seed
 * NCF format (He et al., "Neural Collaborative Filtering", WWW 2017, as published with the code):
 *   NAME.train.rating, NAME.test.rating              `user<TAB>item<TAB>rating<TAB>timestamp`,
 *                                                    0-based integer ids
 *   NAME.test.negative                               `(user,item)<TAB>neg1<TAB>…`
 *   No validation part: a run on it selects the last round/epoch.
 * Reading checks consistency and names file and line of the first problem (DataError): malformed
 * lines, duplicate pairs, a held-out item the user also has in train (or in the other held-out
 * part), a negative the user interacted with, unknown users (held out without train, negatives
 * without a held-out item), held-out users without negatives. Items that appear only as negatives
 * are catalogue items nobody interacted with. The data set is rebuilt with dense ids in raw-id order, as `DatasetBuilder` does, so a
 * split written by `fedrec split` and read back gives the very split (and metrics) of the direct run.
 */
import { readdirSync, renameSync, statSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawIdComparator } from './builder.js';
import { DataError } from './errors.js';
import { forEachLine } from './lines.js';
import { splitFromParts } from './split.js';
import { buildUserItems, rowOf } from './user-items.js';
import type { Dataset, EvalPart, ImplicitSplit, SplitMethod, UserItems } from './types.js';

export interface SplitFiles {
  readonly dataset: Dataset;
  readonly split: ImplicitSplit;
  /** 'fedrec' or 'ncf'. */
  readonly format: 'fedrec' | 'ncf';
  /** Whether the files hold a validation part. */
  readonly hasValidation: boolean;
}

/** The metadata file of the fedrec format. */
interface SplitMeta {
  readonly dataset?: string;
  readonly method?: SplitMethod;
  readonly seed?: number;
}

const FILES = {
  train: 'train.tsv',
  validation: 'validation.tsv',
  test: 'test.tsv',
  negatives: { validation: 'validation.negatives.tsv', test: 'test.negatives.tsv' },
  meta: 'split.json',
} as const;

const METHODS: readonly SplitMethod[] = ['leave-one-out-time', 'leave-one-out-random', 'ratio'];
const COLUMNS = ['user', 'item', 'rating', 'timestamp'] as const;

// ---------------------------------------------------------------------------------------------
// Writing

/** Writes `split` of `ds` into `dir` (which must exist) in the fedrec format; each file appears whole or not at all. */
export function writeSplitFiles(ds: Dataset, split: ImplicitSplit, dir: string): string[] {
  const { ratings, timestamps } = ds.interactions;
  const at = new Map<number, number>();
  for (let k = 0; k < ds.interactions.users.length; k++) at.set(ds.interactions.users[k] * ds.nItems + ds.interactions.items[k], k);
  const header = timestamps && !ratings ? 'user\titem\ttimestamp\n' : '';
  const interactions = (rows: UserItems): string => {
    const lines: string[] = [];
    for (let u = 0; u < split.nUsers; u++) {
      for (const item of rowOf(rows, u)) {
        const k = at.get(u * ds.nItems + item)!;
        let line = `${ds.userIds[u]}\t${ds.itemIds[item]}`;
        if (ratings) line += `\t${ratings[k]}`;
        if (timestamps) line += `\t${timestamps[k]}`;
        lines.push(line);
      }
    }
    return header + lines.map((l) => l + '\n').join('');
  };
  const negatives = (rows: UserItems): string => {
    let out = '';
    for (let u = 0; u < split.nUsers; u++) {
      const row = rowOf(rows, u);
      if (row.length > 0) out += `${ds.userIds[u]}\t${Array.from(row, (i) => ds.itemIds[i]).join('\t')}\n`;
    }
    return out;
  };
  const meta: SplitMeta = { dataset: ds.name, method: split.method, seed: split.seed };
  const contents: Array<[string, string]> = [
    [FILES.train, interactions(split.train)],
    [FILES.validation, interactions(split.validation)],
    [FILES.test, interactions(split.test)],
    [FILES.negatives.validation, negatives(split.negatives.validation)],
    [FILES.negatives.test, negatives(split.negatives.test)],
    [FILES.meta, JSON.stringify(meta, null, 2) + '\n'],
  ];
  const temporary = contents.map(([name, text]) => {
    const tmp = join(dir, `.${name}.tmp-${process.pid}`);
    writeFileSync(tmp, text);
    return [tmp, join(dir, name)] as const;
  });
  for (const [tmp, final] of temporary) renameSync(tmp, final);
  return contents.map(([name]) => name);
}

// ---------------------------------------------------------------------------------------------
// Reading

/** One interaction line as read. */
interface Row {
  readonly user: string;
  readonly item: string;
  readonly rating?: number;
  readonly timestamp?: number;
  readonly file: string;
  readonly line: number;
}

/** One negatives line as read. */
interface NegativesRow {
  readonly user: string;
  /** NCF only: the test item the line names. */
  readonly heldOut?: string;
  readonly items: readonly string[];
  readonly file: string;
  readonly line: number;
}

/** Reads a split folder in the fedrec format or the NCF format (detected from the file names). */
export async function readSplitFiles(dir: string, defaults: { seed: number }): Promise<SplitFiles> {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new DataError(dir, undefined, 'expected a folder of split files');
    names = readdirSync(dir);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(dir, undefined, 'split folder not found');
  }
  if (names.includes(FILES.train)) return readFedrecFormat(dir, names, defaults.seed);
  const ncf = names.filter((n) => n.endsWith('.train.rating'));
  if (ncf.length === 1) return readNcfFormat(dir, ncf[0].slice(0, -'.train.rating'.length));
  if (ncf.length > 1) throw new DataError(dir, undefined, `several NCF splits (${ncf.join(', ')}): give a folder holding one`);
  throw new DataError(dir, undefined, `expected ${FILES.train} (+ ${FILES.test}, ${FILES.negatives.test}) or NCF files NAME.train.rating, NAME.test.rating, NAME.test.negative`);
}

async function readFedrecFormat(dir: string, names: readonly string[], seed: number): Promise<SplitFiles> {
  const need = (name: string): string => {
    if (!names.includes(name)) throw new DataError(join(dir, name), undefined, `file not found (a split folder holds ${FILES.train}, ${FILES.test}, ${FILES.negatives.test} and optionally ${FILES.validation} with ${FILES.negatives.validation})`);
    return join(dir, name);
  };
  const hasValidation = names.includes(FILES.validation);
  const meta = readMeta(join(dir, FILES.meta));
  const train = await readInteractionFile(need(FILES.train), false);
  const test = await readInteractionFile(need(FILES.test), false);
  const validation = hasValidation ? await readInteractionFile(join(dir, FILES.validation), false) : [];
  const negatives = {
    test: await readNegativesFile(need(FILES.negatives.test), false),
    validation: hasValidation ? await readNegativesFile(need(FILES.negatives.validation), false) : [],
  };
  const name = meta.dataset ?? dir.split(/[\\/]/).filter((p) => p !== '').pop() ?? 'split';
  return { ...assembleSplit(name, { train, validation, test }, negatives, { method: meta.method, seed: meta.seed ?? seed }), format: 'fedrec', hasValidation };
}

async function readNcfFormat(dir: string, name: string): Promise<SplitFiles> {
  const path = (suffix: string): string => join(dir, `${name}.${suffix}`);
  const train = await readInteractionFile(path('train.rating'), true);
  const test = await readInteractionFile(path('test.rating'), true);
  const negatives = { test: await readNegativesFile(path('test.negative'), true), validation: [] };
  return { ...assembleSplit(name, { train, validation: [], test }, negatives, { seed: 0 }), format: 'ncf', hasValidation: false };
}

function readMeta(file: string): SplitMeta {
  if (!existsSync(file)) return {};
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(file, undefined, `not valid JSON: ${(err as Error).message}`);
  }
  const m = meta as Record<string, unknown>;
  if (typeof m !== 'object' || m === null) throw new DataError(file, undefined, 'expected a JSON object');
  if (m.method !== undefined && !METHODS.includes(m.method as SplitMethod)) {
    throw new DataError(file, undefined, `method: expected one of ${METHODS.join(', ')}, got ${JSON.stringify(m.method)}`);
  }
  if (m.seed !== undefined && !Number.isInteger(m.seed)) throw new DataError(file, undefined, `seed: expected an integer, got ${JSON.stringify(m.seed)}`);
  if (m.dataset !== undefined && typeof m.dataset !== 'string') throw new DataError(file, undefined, 'dataset: expected a string');
  return m as SplitMeta;
}

/** Interaction lines; NCF: exactly four fields and non-negative integer ids. */
async function readInteractionFile(file: string, ncf: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  let columns: readonly string[] | null = ncf ? COLUMNS : null;
  await forEachLine(file, 'utf8', (text, line) => {
    if (text.trim() === '') return;
    const fields = text.split('\t');
    if (columns === null) {
      if (fields[0] === 'user') {
        const ok = fields.length >= 2 && fields.length <= 4 && fields[1] === 'item' && fields.slice(2).every((f) => f === 'rating' || f === 'timestamp') && new Set(fields).size === fields.length;
        if (!ok) throw new DataError(file, line, `bad header '${text}': expected user<TAB>item[<TAB>rating][<TAB>timestamp]`);
        columns = fields;
        return;
      }
      if (fields.length < 2 || fields.length > 4) throw new DataError(file, line, `expected user<TAB>item[<TAB>rating][<TAB>timestamp], got ${fields.length} field${fields.length === 1 ? '' : 's'}`);
      columns = COLUMNS.slice(0, fields.length);
    }
    if (fields.length !== columns.length) {
      throw new DataError(file, line, `expected ${columns.length} tab-separated fields (${columns.join(', ')}), got ${fields.length}`);
    }
    const row: { user: string; item: string; rating?: number; timestamp?: number; file: string; line: number } = { user: '', item: '', file, line };
    columns.forEach((column, c) => {
      const value = fields[c].trim();
      if (column === 'user' || column === 'item') {
        if (value === '') throw new DataError(file, line, `empty ${column} id`);
        if (ncf && !/^\d+$/.test(value)) throw new DataError(file, line, `NCF ${column} ids are 0-based integers, got '${value}'`);
        row[column] = value;
      } else {
        const n = Number(value);
        if (value === '' || !Number.isFinite(n)) throw new DataError(file, line, `${column}: expected a number, got '${value}'`);
        row[column as 'rating' | 'timestamp'] = n;
      }
    });
    rows.push(row);
  });
  return rows;
}

/** Negatives lines: `user<TAB>neg…` (fedrec) or `(user,item)<TAB>neg…` (NCF). */
async function readNegativesFile(file: string, ncf: boolean): Promise<NegativesRow[]> {
  const rows: NegativesRow[] = [];
  await forEachLine(file, 'utf8', (text, line) => {
    if (text.trim() === '') return;
    const fields = text.split('\t').map((f) => f.trim());
    if (fields.length < 2) throw new DataError(file, line, `expected ${ncf ? '(user,item)' : 'user'}<TAB>neg1<TAB>…, got ${fields.length} field`);
    const items = fields.slice(1);
    const empty = items.findIndex((i) => i === '');
    if (empty >= 0) throw new DataError(file, line, `empty item id in field ${empty + 2}`);
    if (ncf) {
      const m = /^\((\d+),(\d+)\)$/.exec(fields[0]);
      if (!m) throw new DataError(file, line, `expected '(user,item)' with 0-based integer ids first, got '${fields[0]}'`);
      const bad = items.find((i) => !/^\d+$/.test(i));
      if (bad !== undefined) throw new DataError(file, line, `NCF item ids are 0-based integers, got '${bad}'`);
      rows.push({ user: m[1], heldOut: m[2], items, file, line });
    } else {
      if (fields[0] === '') throw new DataError(file, line, 'empty user id');
      rows.push({ user: fields[0], items, file, line });
    }
  });
  return rows;
}

/** Checks the parts against each other and builds the data set and the split. */
function assembleSplit(
  name: string,
  parts: Readonly<Record<'train' | EvalPart, readonly Row[]>>,
  negatives: Readonly<Record<EvalPart, readonly NegativesRow[]>>,
  opts: { readonly method?: SplitMethod; readonly seed: number },
): Omit<SplitFiles, 'format' | 'hasValidation'> {
  const order = ['train', 'validation', 'test'] as const;
  // Every row must carry the same columns as the first row of train.
  const first = parts.train[0];
  if (!first) throw new DataError(name, undefined, 'the train file holds no interactions');
  if (parts.test.length === 0) throw new DataError(name, undefined, 'the test file holds no interactions');
  const hasRating = first.rating !== undefined;
  const hasTimestamp = first.timestamp !== undefined;
  for (const part of order) {
    for (const row of parts[part]) {
      if ((row.rating !== undefined) !== hasRating || (row.timestamp !== undefined) !== hasTimestamp) {
        throw new DataError(row.file, row.line, `${row.rating !== undefined ? 'has' : 'lacks'} a rating and ${row.timestamp !== undefined ? 'has' : 'lacks'} a timestamp, unlike ${first.file.split(/[\\/]/).pop()} line ${first.line}`);
      }
    }
  }
  // Pairs: unique within and across parts; held-out users must be train users.
  const partOf = new Map<string, { part: (typeof order)[number]; row: Row }>();
  const key = (user: string, item: string): string => `${user}\u0000${item}`;
  const trainUsers = new Set(parts.train.map((r) => r.user));
  for (const part of order) {
    for (const row of parts[part]) {
      const seen = partOf.get(key(row.user, row.item));
      if (seen) {
        const where = `${seen.row.file.split(/[\\/]/).pop()} line ${seen.row.line}`;
        throw new DataError(row.file, row.line, seen.part === part
          ? `duplicate pair: user ${row.user} item ${row.item} already at line ${seen.row.line}`
          : `${part} item ${row.item} of user ${row.user} is also in ${seen.part} (${where})`);
      }
      if (part !== 'train' && !trainUsers.has(row.user)) throw new DataError(row.file, row.line, `unknown user ${row.user}: no train interactions`);
      partOf.set(key(row.user, row.item), { part, row });
    }
  }
  // Id spaces: interaction ids, plus NCF items that only appear as negatives.
  const userIdSet = new Set<string>();
  const itemIdSet = new Set<string>();
  for (const part of order) for (const row of parts[part]) (userIdSet.add(row.user), itemIdSet.add(row.item));
  const heldOutUsers = { validation: new Set(parts.validation.map((r) => r.user)), test: new Set(parts.test.map((r) => r.user)) };
  for (const part of ['validation', 'test'] as const) {
    const seenUsers = new Set<string>();
    for (const row of negatives[part]) {
      if (!heldOutUsers[part].has(row.user)) throw new DataError(row.file, row.line, `unknown user ${row.user}: no ${part} item to rank against these negatives`);
      if (seenUsers.has(row.user)) throw new DataError(row.file, row.line, `second line for user ${row.user}`);
      seenUsers.add(row.user);
      if (row.heldOut !== undefined && partOf.get(key(row.user, row.heldOut))?.part !== part) {
        throw new DataError(row.file, row.line, `(${row.user},${row.heldOut}) is not a ${part} pair of the .test.rating file`);
      }
      const inLine = new Set<string>();
      for (const item of row.items) {
        if (inLine.has(item)) throw new DataError(row.file, row.line, `negative ${item} listed twice`);
        inLine.add(item);
        const interacted = partOf.get(key(row.user, item));
        if (interacted) throw new DataError(row.file, row.line, `negative ${item} is an interaction of user ${row.user} (${interacted.part})`);
      }
      // Negatives are drawn from the catalogue: an item that only appears here is a catalogue item
      // nobody interacted with (NCF's files have such items; so has a fedrec split read without
      // its validation files).
      for (const item of row.items) itemIdSet.add(item);
    }
    for (const user of heldOutUsers[part]) {
      if (!seenUsers.has(user)) {
        const file = negatives[part][0]?.file ?? `${part} negatives`;
        throw new DataError(file, undefined, `no negatives line for user ${user}, who has a ${part} item`);
      }
    }
  }
  const userIds = [...userIdSet].sort(rawIdComparator([...userIdSet]));
  const itemIds = [...itemIdSet].sort(rawIdComparator([...itemIdSet]));
  const userIndex = new Map(userIds.map((id, u) => [id, u]));
  const itemIndex = new Map(itemIds.map((id, i) => [id, i]));
  const nItems = itemIds.length;
  // Interactions by (user, item), as DatasetBuilder lists them.
  const all = order.flatMap((part, p) => parts[part].map((row) => ({ row, p, u: userIndex.get(row.user)!, i: itemIndex.get(row.item)! })));
  all.sort((a, b) => a.u - b.u || a.i - b.i);
  const dataset: Dataset = {
    name,
    nUsers: userIds.length,
    nItems,
    interactions: {
      users: Int32Array.from(all, (e) => e.u),
      items: Int32Array.from(all, (e) => e.i),
      ratings: hasRating ? Float32Array.from(all, (e) => e.row.rating!) : null,
      timestamps: hasTimestamp ? Float64Array.from(all, (e) => e.row.timestamp!) : null,
    },
    userIds,
    itemIds,
    userIndex,
    itemIndex,
    side: {},
  };
  const negativeRows = (part: EvalPart): UserItems => {
    const users: number[] = [];
    const items: number[] = [];
    for (const row of negatives[part]) {
      for (const item of row.items) {
        users.push(userIndex.get(row.user)!);
        items.push(itemIndex.get(item)!);
      }
    }
    return buildUserItems(userIds.length, Int32Array.from(users), Int32Array.from(items));
  };
  const method = opts.method ?? inferMethod(parts, hasTimestamp);
  const split = splitFromParts(dataset, Uint8Array.from(all, (e) => e.p), method, opts.seed, { validation: negativeRows('validation'), test: negativeRows('test') });
  return { dataset, split };
}

/** Without split.json: leave-one-out when every user holds out at most one item per part, else ratio. */
function inferMethod(parts: Readonly<Record<EvalPart, readonly Row[]>>, hasTimestamp: boolean): SplitMethod {
  const atMostOne = (rows: readonly Row[]) => new Set(rows.map((r) => r.user)).size === rows.length;
  if (atMostOne(parts.validation) && atMostOne(parts.test)) return hasTimestamp ? 'leave-one-out-time' : 'leave-one-out-random';
  return 'ratio';
}
