/**
 * loadDataset: reads a ratings file or a MovieLens folder into a `Dataset`, with side information
 * when it sits beside the ratings.
 *   ml-100k  folder with u.data (or the u.data file): `user \t item \t rating \t timestamp`;
 *            side info from u.user, u.item (+ u.genre).
 *   ml-1m    folder with ratings.dat (or the file; also ML-10M): `user::item::rating::timestamp`;
 *            side info from users.dat, movies.dat.
 *   csv      any CSV/TSV: `columns` names each field (user, item, rating, timestamp, skip or '');
 *            without `columns` they come from a header line (e.g. MovieLens ratings.csv
 *            `userId,movieId,rating,timestamp`) or, header-less, by position (user, item[, rating
 *            [, timestamp]]). `sep` defaults to ',' for .csv, tab for .tsv or a first line with a tab.
 * `auto` decides from the folder's contents, the file name and the first line.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { DatasetBuilder } from './builder.js';
import { parseColumns, columnsFromHeader, positionalColumns, readInteractions, type DelimitedFormat } from './delimited.js';
import { csvFields } from './csv-records.js';
import { DataError } from './errors.js';
import { firstLine } from './lines.js';
import { ML100K_GENRES, readMl100kGenres, readMl100kItems, readMl100kUsers, readMl1mMovies, readMl1mUsers, type SideRecords } from './side-info.js';
import type { Dataset, SideInfo } from './types.js';

export type DatasetFormat = 'auto' | 'ml-100k' | 'ml-1m' | 'csv';

export interface LoadDatasetOptions {
  /** A ratings file, or a folder holding u.data, ratings.dat or ratings.csv. */
  readonly path: string;
  readonly format?: DatasetFormat;
  /** csv only: the role of each field, e.g. ['user', 'item', 'skip', 'timestamp']. */
  readonly columns?: readonly string[];
  /** csv only: field separator. */
  readonly sep?: string;
  /** Keep only interactions with rating >= this (the data must have ratings). */
  readonly ratingThreshold?: number;
  /** Dataset name; default 'ml-100k', 'ml-1m' or the file's (folder's) base name. */
  readonly name?: string;
}

type ConcreteFormat = Exclude<DatasetFormat, 'auto'>;

/** Where the ratings are and how to read them. */
interface Source {
  readonly format: ConcreteFormat;
  readonly ratingsFile: string;
  readonly defaultName: string;
}

const MOVIELENS_RATINGS = { sep: '\t', columns: ['user', 'item', 'rating', 'timestamp'], numericIds: true } as const;

export async function loadDataset(opts: LoadDatasetOptions): Promise<Dataset> {
  const source = await resolveSource(opts);
  const builder = new DatasetBuilder(opts.name ?? source.defaultName, { ratingThreshold: opts.ratingThreshold });
  const format = await delimitedFormat(source, opts);
  if (opts.ratingThreshold !== undefined && !format.columns.includes('rating')) {
    throw new DataError(source.ratingsFile, undefined, `a rating threshold (${opts.ratingThreshold}) was given but the file has no rating column`);
  }
  await readInteractions(source.ratingsFile, format, builder);
  return builder.build(await readSideInfo(source));
}

async function resolveSource(opts: LoadDatasetOptions): Promise<Source> {
  const requested = opts.format ?? 'auto';
  const wantsCsv = opts.columns !== undefined || opts.sep !== undefined;
  if (wantsCsv && requested !== 'auto' && requested !== 'csv') {
    throw new RangeError(`loadDataset: columns and sep apply to the csv format only, not ${requested}`);
  }
  const kind = await pathKind(opts.path);
  if (kind === 'missing') throw new DataError(opts.path, undefined, 'not found: expected a ratings file or a MovieLens folder');
  if (kind === 'folder') return folderSource(opts.path, requested, wantsCsv);
  const format = requested !== 'auto' ? requested : wantsCsv ? 'csv' : await detectFileFormat(opts.path);
  const defaultName = format === 'csv' ? basename(opts.path, extname(opts.path)) : format;
  return { format, ratingsFile: opts.path, defaultName };
}

async function folderSource(folder: string, requested: DatasetFormat, wantsCsv: boolean): Promise<Source> {
  const candidates: ReadonlyArray<readonly [ConcreteFormat, string]> = [
    ['ml-100k', 'u.data'],
    ['ml-1m', 'ratings.dat'],
    ['csv', 'ratings.csv'],
  ];
  for (const [format, file] of candidates) {
    if (requested !== 'auto' && requested !== format) continue;
    const ratingsFile = join(folder, file);
    if ((await pathKind(ratingsFile)) === 'file') {
      // columns / sep given: the folder's ratings file is read as CSV/TSV with them.
      if (wantsCsv) return { format: 'csv', ratingsFile, defaultName: basename(folder) };
      return { format, ratingsFile, defaultName: format === 'csv' ? basename(folder) : format };
    }
  }
  const expected = candidates.filter(([format]) => requested === 'auto' || requested === format).map(([, file]) => file);
  throw new DataError(folder, undefined, `expected a folder holding ${expected.join(' or ')}`);
}

/** u.data → ml-100k; a first line with '::' → ml-1m; anything else → csv. */
async function detectFileFormat(file: string): Promise<ConcreteFormat> {
  if (basename(file) === 'u.data') return 'ml-100k';
  const first = await firstLine(file);
  if (first === null) throw new DataError(file, undefined, 'empty file: expected interaction rows');
  return first.includes('::') ? 'ml-1m' : 'csv';
}

async function delimitedFormat(source: Source, opts: LoadDatasetOptions): Promise<DelimitedFormat> {
  if (source.format === 'ml-100k') return MOVIELENS_RATINGS;
  if (source.format === 'ml-1m') return { ...MOVIELENS_RATINGS, sep: '::' };
  const file = source.ratingsFile;
  const first = await firstLine(file);
  if (first === null) throw new DataError(file, undefined, 'empty file: expected interaction rows');
  const sep = opts.sep ?? defaultSep(file, first);
  if (sep === '') throw new RangeError('loadDataset: sep must not be empty');
  const fields = csvFields(file, first, sep);
  const columns = opts.columns ? parseColumns(opts.columns) : columnsFromHeader(fields) ?? positionalColumns(fields.length);
  if (columns === null) {
    throw new DataError(file, 1, `cannot tell the columns of ${fields.length} fields: pass columns, e.g. ['user', 'item', 'rating', 'timestamp']`);
  }
  // MovieLens ratings.csv (ML-20M, ML-25M, latest) has no quotes: the fast line splitter reads it.
  const movielens = first.replace(/^\uFEFF/, '').trim() === 'userId,movieId,rating,timestamp';
  return { sep, columns, numericIds: false, quoted: !movielens };
}

function defaultSep(file: string, first: string): string {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return ',';
  if (ext === '.tsv' || first.includes('\t')) return '\t';
  return ',';
}

async function readSideInfo(source: Source): Promise<SideInfo> {
  const folder = dirname(source.ratingsFile);
  const beside = async <T>(file: string, read: (path: string) => Promise<T>): Promise<T | undefined> => {
    const path = join(folder, file);
    return (await pathKind(path)) === 'file' ? read(path) : undefined;
  };
  let users: SideRecords | undefined;
  let items: SideRecords | undefined;
  if (source.format === 'ml-100k') {
    const genres = (await beside('u.genre', readMl100kGenres)) ?? ML100K_GENRES;
    users = await beside('u.user', readMl100kUsers);
    items = await beside('u.item', (path) => readMl100kItems(path, genres));
  } else if (source.format === 'ml-1m') {
    users = await beside('users.dat', readMl1mUsers);
    items = await beside('movies.dat', readMl1mMovies);
  }
  return { ...(users && { users }), ...(items && { items }) };
}

async function pathKind(path: string): Promise<'file' | 'folder' | 'missing'> {
  try {
    return (await stat(path)).isDirectory() ? 'folder' : 'file';
  } catch {
    return 'missing';
  }
}
