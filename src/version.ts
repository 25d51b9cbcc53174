/** The installed fedrec version, read once from the package's own package.json (dist/../package.json). */
import { readFileSync } from 'node:fs';

export const FEDREC_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
