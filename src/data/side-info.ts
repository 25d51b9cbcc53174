/**
 * MovieLens side information: users (age, gender, occupation, zip) and items (title, genres), as
 * raw id → attribute strings. ML-100K: `u.user`, `u.item` (Latin-1, 19 genre flags named by
 * `u.genre` when present); ML-1M: `users.dat` (age and occupation codes mapped to the README's
 * meanings), `movies.dat` (Latin-1).
 */
import { DataError } from './errors.js';
import { forEachLine, type TextEncoding } from './lines.js';

export type SideRecords = Map<string, Readonly<Record<string, string>>>;

/** ML-100K genre names, in flag order (u.genre). */
export const ML100K_GENRES: readonly string[] = [
  'unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy',
  'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
];

/** ML-1M age codes (README). */
export const ML1M_AGES: Readonly<Record<string, string>> = {
  '1': 'Under 18', '18': '18-24', '25': '25-34', '35': '35-44', '45': '45-49', '50': '50-55', '56': '56+',
};

/** ML-1M occupation codes (README). */
export const ML1M_OCCUPATIONS: readonly string[] = [
  'other', 'academic/educator', 'artist', 'clerical/admin', 'college/grad student', 'customer service',
  'doctor/health care', 'executive/managerial', 'farmer', 'homemaker', 'K-12 student', 'lawyer', 'programmer',
  'retired', 'sales/marketing', 'scientist', 'self-employed', 'technician/engineer', 'tradesman/craftsman',
  'unemployed', 'writer',
];

/** The fields a side-info file must have on each line: how many, and their names for messages. */
interface Layout {
  readonly count: number;
  readonly names: string;
}

function layoutOf(names: readonly string[]): Layout {
  return { count: names.length, names: names.join(', ') };
}

/** `u.user`: user id|age|gender|occupation|zip code. */
export async function readMl100kUsers(file: string): Promise<SideRecords> {
  return readRecords(file, '|', 'utf8', layoutOf(['user id', 'age', 'gender', 'occupation', 'zip code']), (f) => ({
    age: f[1], gender: f[2], occupation: f[3], zip: f[4],
  }));
}

/** `u.genre`: name|index per line; returns the names in index order. */
export async function readMl100kGenres(file: string): Promise<string[]> {
  const names: string[] = [];
  await forEachLine(file, 'utf8', (text, line) => {
    if (text.trim() === '') return;
    const fields = text.split('|');
    if (fields.length !== 2 || fields[0] === '' || !/^\d+$/.test(fields[1])) {
      throw new DataError(file, line, `expected 2 '|'-separated fields (genre name, index), got '${text}'`);
    }
    names[Number(fields[1])] = fields[0];
  });
  const hasGap = Array.from(names, (name) => name === undefined).includes(true);
  if (names.length === 0 || hasGap) throw new DataError(file, undefined, 'expected genre indices 0..n-1 without gaps');
  return names;
}

/** `u.item` (Latin-1): movie id|title|release date|video release date|IMDb URL|one flag per genre. */
export async function readMl100kItems(file: string, genreNames: readonly string[] = ML100K_GENRES): Promise<SideRecords> {
  const layout = {
    count: 5 + genreNames.length,
    names: `movie id, title, release date, video release date, IMDb URL, ${genreNames.length} genre flags`,
  };
  return readRecords(file, '|', 'latin1', layout, (f, line) => {
    const genres = genreNames.filter((name, g) => {
      const flag = f[5 + g];
      if (flag !== '0' && flag !== '1') throw new DataError(file, line, `expected genre flag 0 or 1 for ${name}, got '${flag}'`);
      return flag === '1';
    });
    return { title: f[1], genres: genres.join('|') };
  });
}

/** `users.dat`: UserID::Gender::Age::Occupation::Zip-code, codes mapped to their meanings. */
export async function readMl1mUsers(file: string): Promise<SideRecords> {
  return readRecords(file, '::', 'utf8', layoutOf(['UserID', 'Gender', 'Age', 'Occupation', 'Zip-code']), (f, line) => {
    const age = ML1M_AGES[f[2]];
    if (age === undefined) throw new DataError(file, line, `expected an age code (${Object.keys(ML1M_AGES).join(', ')}), got '${f[2]}'`);
    const occupation = /^\d+$/.test(f[3]) ? ML1M_OCCUPATIONS[Number(f[3])] : undefined;
    if (occupation === undefined) throw new DataError(file, line, `expected an occupation code 0..20, got '${f[3]}'`);
    return { age, gender: f[1], occupation, zip: f[4] };
  });
}

/** `movies.dat` (Latin-1): MovieID::Title::Genres (genres '|'-separated). */
export async function readMl1mMovies(file: string): Promise<SideRecords> {
  return readRecords(file, '::', 'latin1', layoutOf(['MovieID', 'Title', 'Genres']), (f) => ({ title: f[1], genres: f[2] }));
}

/** Reads `sep`-separated records keyed by a numeric first field. */
async function readRecords(
  file: string,
  sep: string,
  encoding: TextEncoding,
  layout: Layout,
  toRecord: (fields: string[], line: number) => Record<string, string>,
): Promise<SideRecords> {
  const idName = layout.names.split(', ')[0];
  const records: SideRecords = new Map();
  await forEachLine(file, encoding, (text, line) => {
    if (text.trim() === '') return;
    const fields = text.split(sep);
    if (fields.length !== layout.count) {
      throw new DataError(file, line, `expected ${layout.count} '${sep}'-separated fields (${layout.names}), got ${fields.length}`);
    }
    if (!/^\d+$/.test(fields[0])) throw new DataError(file, line, `expected a numeric ${idName}, got '${fields[0]}'`);
    records.set(fields[0], toRecord(fields, line));
  });
  if (records.size === 0) throw new DataError(file, undefined, `empty file: expected rows of ${layout.names}`);
  return records;
}
