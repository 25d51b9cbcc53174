/**
 * Reads interaction rows from a delimited text file (TSV, CSV, MovieLens `::`) into a
 * DatasetBuilder, given what each column holds. Detects and skips a header line, and turns every
 * malformed line into a DataError naming file, line and what was expected.
 */
import type { DatasetBuilder } from './builder.js';
import { DataError } from './errors.js';
import { forEachLine } from './lines.js';
import { forEachCsvRecord } from './csv-records.js';

/** What a column holds; 'skip' columns are ignored. */
export type ColumnRole = 'user' | 'item' | 'rating' | 'timestamp' | 'skip';

export interface DelimitedFormat {
  readonly sep: string;
  /** One role per field, e.g. ['user', 'item', 'rating', 'timestamp']. */
  readonly columns: readonly ColumnRole[];
  /** Require user and item ids to be non-negative integers (MovieLens). */
  readonly numericIds: boolean;
  /** Fields may be quoted (general CSV/TSV): read by csv-parse; otherwise split on `sep` line by line (faster). */
  readonly quoted?: boolean;
}

const ROLES: readonly ColumnRole[] = ['user', 'item', 'rating', 'timestamp', 'skip'];

/** Validates user-given column names ('' means 'skip'): exactly one user and one item column. */
export function parseColumns(names: readonly string[]): ColumnRole[] {
  const roles = names.map((name) => {
    const role = name.trim() === '' ? 'skip' : name.trim().toLowerCase();
    if (!ROLES.includes(role as ColumnRole)) {
      throw new RangeError(`columns: unknown column '${name}', expected one of user, item, rating, timestamp, skip or ''`);
    }
    return role as ColumnRole;
  });
  for (const role of ['user', 'item', 'rating', 'timestamp'] as const) {
    const count = roles.filter((r) => r === role).length;
    if (count > 1) throw new RangeError(`columns: '${role}' appears ${count} times`);
    if (count === 0 && (role === 'user' || role === 'item')) throw new RangeError(`columns: one '${role}' column is required`);
  }
  return roles;
}

const HEADER_NAMES: ReadonlyArray<readonly [ColumnRole, RegExp]> = [
  ['user', /^(user|userid|user_id|uid|customer|customerid|customer_id)$/],
  ['item', /^(item|itemid|item_id|iid|movie|movieid|movie_id|product|productid|product_id|artist|artistid|artist_id|track|trackid|track_id|book|bookid|book_id)$/],
  ['rating', /^(rating|ratings|score|value|weight|stars)$/],
  ['timestamp', /^(timestamp|time|ts|unixtime|unix_timestamp)$/],
];

/** The role a header name stands for (RecBole-style `user_id:token` suffixes allowed), or 'skip'. */
function roleOfHeaderName(name: string): ColumnRole {
  const bare = name.trim().toLowerCase().replace(/:\w+$/, '');
  for (const [role, pattern] of HEADER_NAMES) if (pattern.test(bare)) return role;
  return 'skip';
}

/** Column roles read from a header line, or null when it names no user and item column. */
export function columnsFromHeader(fields: readonly string[]): ColumnRole[] | null {
  const seen = new Set<ColumnRole>();
  const roles = fields.map((field) => {
    const role = roleOfHeaderName(field);
    if (role === 'skip' || seen.has(role)) return 'skip';
    seen.add(role);
    return role;
  });
  return seen.has('user') && seen.has('item') ? roles : null;
}

/** Default roles by field count for a header-less file: user, item[, rating[, timestamp]]. */
export function positionalColumns(fieldCount: number): ColumnRole[] | null {
  const order: ColumnRole[] = ['user', 'item', 'rating', 'timestamp'];
  return fieldCount >= 2 && fieldCount <= 4 ? order.slice(0, fieldCount) : null;
}

/** Splits a line on `sep`, trimming each field. */
export function splitFields(text: string, sep: string): string[] {
  const fields = text.split(sep);
  for (let f = 0; f < fields.length; f++) fields[f] = fields[f].trim();
  return fields;
}

/** Adds every row of `file` to `builder`; returns the number of data rows read. */
export async function readInteractions(file: string, format: DelimitedFormat, builder: DatasetBuilder): Promise<number> {
  const { sep, columns } = format;
  const at = (role: ColumnRole): number => columns.indexOf(role);
  const userAt = at('user');
  const itemAt = at('item');
  const ratingAt = at('rating');
  const timestampAt = at('timestamp');
  const expectedFields = `${columns.length} ${describeSep(sep)} fields (${columns.join(', ')})`;
  let rows = 0;
  let seenContent = false;
  const eachRow = (onRow: (fields: string[], line: number) => void): Promise<void> => format.quoted
    ? forEachCsvRecord(file, sep, onRow)
    : forEachLine(file, 'utf8', (text, line) => {
      if (text.trim() !== '') onRow(splitFields(text, sep), line);
    });
  await eachRow((fields, line) => {
    if (fields.length !== columns.length) {
      throw new DataError(file, line, `expected ${expectedFields}, got ${fields.length}`);
    }
    const isFirst = !seenContent;
    seenContent = true;
    if (isFirst && isHeader(fields, format)) return;
    const userId = readId(file, line, fields[userAt], 'user', format.numericIds);
    const itemId = readId(file, line, fields[itemAt], 'item', format.numericIds);
    const rating = ratingAt >= 0 ? readNumber(file, line, fields[ratingAt], 'rating') : undefined;
    const timestamp = timestampAt >= 0 ? readTimestamp(file, line, fields[timestampAt]) : undefined;
    builder.add(userId, itemId, rating, timestamp);
    rows++;
  });
  if (rows === 0) throw new DataError(file, undefined, `empty file: expected rows of ${expectedFields}`);
  return rows;
}

/**
 * A first line is a header when a rating or timestamp field is not a number, when ids must be
 * numeric and are not, or (for user/item-only files) when both id fields are column names.
 */
function isHeader(fields: readonly string[], format: DelimitedFormat): boolean {
  const { columns, numericIds } = format;
  let hasNumberColumn = false;
  for (let c = 0; c < columns.length; c++) {
    const role = columns[c];
    if (role === 'rating' || role === 'timestamp') {
      hasNumberColumn = true;
      if (!(role === 'timestamp' ? isNumber(fields[c]) || isIsoTime(fields[c]) : isNumber(fields[c]))) return true;
    } else if (numericIds && (role === 'user' || role === 'item') && !isNonNegativeInteger(fields[c])) {
      return true;
    }
  }
  if (hasNumberColumn) return false;
  return roleOfHeaderName(fields[columns.indexOf('user')]) === 'user' && roleOfHeaderName(fields[columns.indexOf('item')]) === 'item';
}

function readId(file: string, line: number, field: string, what: 'user' | 'item', numeric: boolean): string {
  if (field === '') throw new DataError(file, line, `expected a ${what} id, got an empty field`);
  if (numeric && !isNonNegativeInteger(field)) throw new DataError(file, line, `expected a numeric ${what} id, got '${field}'`);
  return field;
}

function readNumber(file: string, line: number, field: string, what: 'rating' | 'timestamp'): number {
  if (!isNumber(field)) throw new DataError(file, line, `expected a finite number for ${what}, got '${field}'`);
  return Number(field);
}

/** A timestamp: a number (e.g. Unix seconds) or an ISO-8601 date/time, read as Unix seconds. */
function readTimestamp(file: string, line: number, field: string): number {
  if (isNumber(field)) return Number(field);
  if (isIsoTime(field)) return Date.parse(field) / 1000;
  throw new DataError(file, line, `expected a timestamp (a number or an ISO-8601 date such as 2024-05-01T12:30:00Z), got '${field}'`);
}

// Date only (UTC midnight) or date-time with optional seconds, fraction and zone (without a zone: local time).
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function isIsoTime(field: string): boolean {
  return ISO_TIME.test(field) && Number.isFinite(Date.parse(field));
}

function isNumber(field: string): boolean {
  return field !== '' && Number.isFinite(Number(field));
}

function isNonNegativeInteger(field: string): boolean {
  return /^\d+$/.test(field);
}

function describeSep(sep: string): string {
  if (sep === '\t') return 'tab-separated';
  if (sep === ',') return 'comma-separated';
  return `'${sep}'-separated`;
}
