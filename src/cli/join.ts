/**
 * `fedrec join --server URL --token T --data FILE`: take part in training with this machine's own
 * data (it never leaves the process); progress on stderr; `--report` writes the on-device
 * evaluation at the end, `--state` keeps the local tables across restarts of this process.
 */
import { readFileSync } from 'node:fs';
import { runManyClients } from '../client/many-clients.js';
import { joinAndTrain } from '../client/node-client.js';
import { TransportError } from '../client/types.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';

export const JOIN_FLAGS: Record<string, FlagSpec> = {
  server: { key: 'server', kind: 'string', help: 'coordinator URL, e.g. http://127.0.0.1:8787; several replicas comma-separated (failover)' },
  token: { key: 'token', kind: 'string', help: 'token from fedrec token create' },
  data: { key: 'data', kind: 'string', help: 'this client\'s data file (fedrec partition writes them)' },
  state: { key: 'state', kind: 'string', help: 'keep local tables in this file between runs' },
  report: { key: 'report', kind: 'string', help: 'write the on-device evaluation JSON here at the end' },
  'max-minutes': { key: 'maxMinutes', kind: 'number', help: 'give up after this long (default 60)' },
  'pause-before-submit-ms': { key: 'pauseBeforeSubmitMs', kind: 'integer', help: 'fault injection: wait between training and sending' },
  quiet: { key: 'quiet', kind: 'boolean', help: 'no progress lines' },
  'data-dir': { key: 'dataDir', kind: 'string', help: 'many clients: every client file in this folder is its own participant (with --tokens)' },
  tokens: { key: 'tokens', kind: 'string', help: 'with --data-dir: a file of tokens, one a line, given to the client files in name order' },
  concurrency: { key: 'concurrency', kind: 'integer', help: 'with --data-dir: participants working at once (default 8)' },
  'state-dir': { key: 'stateDir', kind: 'string', help: 'with --data-dir: keep each participant\'s local tables in this folder' },
  'report-dir': { key: 'reportDir', kind: 'string', help: 'with --data-dir: write each participant\'s on-device evaluation here' },
};

export async function joinCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, JOIN_FLAGS) as {
    server?: string; token?: string; data?: string; state?: string; report?: string; maxMinutes?: number; pauseBeforeSubmitMs?: number; quiet?: boolean;
    dataDir?: string; tokens?: string; concurrency?: number; stateDir?: string; reportDir?: string;
  };
  if (f.dataDir !== undefined) return joinMany(f);
  for (const flag of ['server', 'token', 'data'] as const) if (!f[flag]) throw new UsageError(`--${flag} is required`);
  let report;
  try {
    report = await joinAndTrain({
    server: f.server as string,
    token: f.token as string,
    dataFile: f.data as string,
    statePath: f.state,
    reportPath: f.report,
    log: f.quiet ? undefined : (line) => process.stderr.write(`fedrec join: ${line}\n`),
    participant: { maxDurationMs: (f.maxMinutes ?? 60) * 60_000, pauseBeforeSubmitMs: f.pauseBeforeSubmitMs },
    });
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    process.stderr.write(`fedrec join: ${err.message}\n`);
    return 1;
  }
  const hr = report.test.count > 0 ? (report.test.sums['HR@10'] ?? 0) / report.test.count : null;
  process.stderr.write(`fedrec join: client ${report.clientId} sent ${report.roundsSent} update(s); model version ${report.modelVersion}${hr === null ? '' : `; on-device test HR@10 ${hr.toFixed(4)}`}\n`);
  return 0;
}

async function joinMany(f: {
  server?: string; token?: string; data?: string; state?: string; report?: string; tokens?: string; dataDir?: string; concurrency?: number;
  stateDir?: string; reportDir?: string; maxMinutes?: number; quiet?: boolean; pauseBeforeSubmitMs?: number;
}): Promise<number> {
  if (!f.server) throw new UsageError('--server is required');
  if (!f.tokens) throw new UsageError('--data-dir needs --tokens FILE (one token per client file, e.g. from fedrec token create --count N)');
  for (const flag of ['token', 'data', 'state', 'report'] as const) if (f[flag] !== undefined) throw new UsageError(`--${flag} is for one client; with --data-dir use --tokens / --state-dir / --report-dir`);
  const concurrency = f.concurrency ?? 8;
  if (concurrency < 1) throw new UsageError(`--concurrency: expected a positive integer, got ${concurrency}`);
  let tokens: string[];
  try {
    tokens = readFileSync(f.tokens, 'utf8').split('\n').map((t) => t.trim()).filter((t) => t.length > 0);
  } catch (err) {
    throw new UsageError(`--tokens ${f.tokens}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let summary;
  try {
    summary = await runManyClients({
      server: f.server,
      tokens,
      dataDir: f.dataDir as string,
      concurrency,
      stateDir: f.stateDir,
      reportDir: f.reportDir,
      maxDurationMs: (f.maxMinutes ?? 60) * 60_000,
      participant: { pauseBeforeSubmitMs: f.pauseBeforeSubmitMs },
      log: f.quiet ? undefined : (line) => process.stderr.write(`fedrec join: ${line}\n`),
    });
  } catch (err) {
    if (err instanceof TransportError) {
      process.stderr.write(`fedrec join: ${err.message}\n`);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || /client files in|no client data files/.test((err as Error).message)) throw new UsageError((err as Error).message);
    throw err;
  }
  const hr = summary.testHr10 === null ? '' : `; on-device test HR@10 ${summary.testHr10.toFixed(4)}`;
  process.stderr.write(`fedrec join: ${summary.clients} clients sent ${summary.updatesSent} update(s); model version ${summary.modelVersion}${hr}\n`);
  return 0;
}
