/**
 * `fedrec join --server URL --token T --data FILE`: take part in training with this machine's own
 * data (it never leaves the process); progress on stderr; `--report` writes the on-device
 * evaluation at the end, `--state` keeps the local tables across restarts of this process.
 */
import { joinAndTrain } from '../client/node-client.js';
import { TransportError } from '../client/types.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';

export const JOIN_FLAGS: Record<string, FlagSpec> = {
  server: { key: 'server', kind: 'string', help: 'coordinator URL, e.g. http://127.0.0.1:8787' },
  token: { key: 'token', kind: 'string', help: 'token from fedrec token create' },
  data: { key: 'data', kind: 'string', help: 'this client\'s data file (fedrec partition writes them)' },
  state: { key: 'state', kind: 'string', help: 'keep local tables in this file between runs' },
  report: { key: 'report', kind: 'string', help: 'write the on-device evaluation JSON here at the end' },
  'max-minutes': { key: 'maxMinutes', kind: 'number', help: 'give up after this long (default 60)' },
  'pause-before-submit-ms': { key: 'pauseBeforeSubmitMs', kind: 'integer', help: 'fault injection: wait between training and sending' },
  quiet: { key: 'quiet', kind: 'boolean', help: 'no progress lines' },
};

export async function joinCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, JOIN_FLAGS) as {
    server?: string; token?: string; data?: string; state?: string; report?: string; maxMinutes?: number; pauseBeforeSubmitMs?: number; quiet?: boolean;
  };
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
