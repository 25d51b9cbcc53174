/**
 * DataError: a problem in an input file, named by file and (when known) line number, e.g.
 * `u.data line 17: expected 4 tab-separated fields (user, item, rating, timestamp), got 3`.
 * The message uses the file's base name; `file` keeps the full path.
 */

export class DataError extends Error {
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, line: number | undefined, problem: string) {
    const where = line === undefined ? baseName(file) : `${baseName(file)} line ${line}`;
    super(`${where}: ${problem}`);
    this.name = 'DataError';
    this.file = file;
    this.line = line;
  }
}

function baseName(file: string): string {
  const parts = file.split(/[\\/]/).filter((p) => p !== '');
  return parts.length > 0 ? parts[parts.length - 1] : file;
}
