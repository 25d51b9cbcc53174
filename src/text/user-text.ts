/**
 * Each user's text description (UFGraphFR feeds it to the frozen encoder). Two sources:
 *  - a template over side information (MovieLens u.user / users.dat and the synthetic generator:
 *    age, gender, occupation, zip), e.g. "A 24-year-old male technician from the Mountain West of
 *    the US.", the zip's first digit naming the US region;
 *  - a CSV file `user,text` (`--user-text FILE`; optional header; RFC 4180 quotes) for any data set,
 *    overriding the template per user.
 */
import { readFileSync } from 'node:fs';
import type { Dataset } from '../data/types.js';

/** US ZIP code regions by first digit. */
const ZIP_REGIONS = [
  'New England and Puerto Rico', 'New York and Pennsylvania', 'the Mid-Atlantic', 'the Southeast', 'the Great Lakes',
  'the Upper Midwest', 'the Central Plains', 'the South Central states', 'the Mountain West', 'the Pacific coast',
];

const GENDERS: Readonly<Record<string, string>> = { M: 'male', F: 'female' };

/** The template sentence for one user's side-information record. */
export function userTextFromSide(side: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  const age = side.age;
  const ageText = age === undefined ? '' : /^\d+$/.test(age) ? `${age}-year-old` : `${age.replace(/^Under /, 'under-')}-year-old`;
  parts.push(ageText, GENDERS[side.gender] ?? '', side.occupation ?? 'person');
  const zip = side.zip ?? '';
  const region = /^\d/.test(zip) ? `from ${ZIP_REGIONS[Number(zip[0])]} of the US` : zip ? 'from outside the US' : '';
  const body = parts.filter((p) => p !== '').join(' ');
  const article = /^[aeiou8]|^11-|^18-/i.test(body) ? 'An' : 'A';
  return `${article} ${body}${region ? ' ' + region : ''}.`;
}

/** Parse a `user,text` CSV; returns raw user id → text. Errors name the file and line. */
export function readUserTextFile(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`user text file ${file}: cannot read (${(err as Error).message})`);
  }
  const rows = parseCsv(text, file);
  const out = new Map<string, string>();
  rows.forEach(({ fields, line }, k) => {
    if (k === 0 && fields[0].trim().toLowerCase() === 'user' && fields[1]?.trim().toLowerCase() === 'text') return;
    if (fields.length !== 2) throw new Error(`${file}:${line}: expected 2 fields (user,text), got ${fields.length}`);
    const user = fields[0].trim();
    if (user === '') throw new Error(`${file}:${line}: empty user id`);
    if (out.has(user)) throw new Error(`${file}:${line}: user '${user}' appears twice`);
    out.set(user, fields[1]);
  });
  if (out.size === 0) throw new Error(`user text file ${file}: no rows (expected user,text lines)`);
  return out;
}

/** RFC 4180 CSV: quoted fields may hold commas, newlines and doubled quotes. */
function parseCsv(text: string, file: string): { fields: string[]; line: number }[] {
  const rows: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let any = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k];
    if (quoted) {
      if (c === '"' && text[k + 1] === '"') {
        field += '"';
        k++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      any = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      any = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[k + 1] === '\n') k++;
      if (any || field !== '') rows.push({ fields: [...fields, field], line: rowLine });
      fields = [];
      field = '';
      any = false;
      line++;
      rowLine = line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) throw new Error(`${file}:${rowLine}: unterminated quoted field`);
  if (any || field !== '') rows.push({ fields: [...fields, field], line: rowLine });
  return rows;
}

/**
 * One text per dense user id: the file's text when given, else the side-information template.
 * Fails naming the users that have neither.
 */
export function userTexts(dataset: Dataset, fromFile?: ReadonlyMap<string, string>): string[] {
  const side = dataset.side.users;
  const missing: string[] = [];
  const texts = dataset.userIds.map((id) => {
    const t = fromFile?.get(id) ?? (side?.get(id) ? userTextFromSide(side.get(id)!) : undefined);
    if (t === undefined) missing.push(id);
    return t ?? '';
  });
  if (missing.length > 0) {
    const source = fromFile ? 'the user text file' : 'side information (no u.user / users.dat beside the data)';
    throw new Error(`no text for ${missing.length} user(s) (e.g. ${missing.slice(0, 5).join(', ')}) in ${source}: pass --user-text FILE with user,text rows`);
  }
  return texts;
}
