/**
 * The `fedrec` command: dispatches to subcommands and turns every failure into one line on stderr
 * that names what was wrong — exit code 2 for usage and data errors (bad flags, config, files),
 * 1 for anything unexpected — never a stack trace unless `--debug` (or FEDREC_DEBUG=1) asks for it.
 * `fedrec <command> --help` works for every command that parses its flags with parseFlags.
 */
import { ConfigError } from '../config/config.js';
import { DataError } from '../data/errors.js';
import { FEDREC_VERSION } from '../version.js';
import { MissingPackageError } from '../text/transformers.js';
import { describeConfigError, asFlag } from './config-errors.js';
import { flagHelp, HelpRequest, suggestion, UsageError } from './flags.js';
import { trainCommand } from './train.js';
import { recommendCommand } from './recommend.js';

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  train: trainCommand,
  recommend: recommendCommand,
  // Deployment commands load their modules on use (a join process need not load fastify or SQLite).
  serve: async (argv) => (await import('./serve.js')).serveCommand(argv),
  token: async (argv) => (await import('./token.js')).tokenCommand(argv),
  join: async (argv) => (await import('./join.js')).joinCommand(argv),
  partition: async (argv) => (await import('./partition.js')).partitionCommand(argv),
  report: async (argv) => (await import('./report.js')).reportCommand(argv),
  privacy: async (argv) => (await import('./privacy.js')).privacyCommand(argv),
  split: async (argv) => (await import('./split.js')).splitCommand(argv),
};

const USAGE = `usage: fedrec <command> [flags]      (fedrec <command> --help: its flags)

commands:
  train       train (federated or centralised) and evaluate
  recommend   top-K recommendations from a saved model, or on-device from a coordinator (--server)
  serve       run the federated coordinator (--config FILE [--port] [--db PATH])
  token       token create [--db PATH] [--expires-in 30d]: issue client tokens; token revoke (--id N | --token T); token operator [--db PATH]: the dashboard's operator token
  join        take part in training (--server URL --token T --data FILE)
  partition   write one client data file per federated client of a data set
  report      an HTML report of result JSON files (RUN.json … --out report.html)
  privacy     ε of a DP-FedAvg run (RDP accountant), or the noise multiplier for a target ε
  split       write a data set's train / validation / test split and evaluation negatives (--out DIR)

flags for every command: --help, --debug (show the stack of an error); fedrec --version
`;

export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes('--debug') || process.env.FEDREC_DEBUG === '1';
  const [command, ...rest] = argv.filter((a) => a !== '--debug');
  if (command === '--version' || command === '-V') {
    process.stdout.write(`fedrec ${FEDREC_VERSION}\n`);
    return 0;
  }
  if (!command || command === '--help' || command === '-h') {
    (command ? process.stdout : process.stderr).write(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`fedrec: unknown command '${command}'${suggestion(command, Object.keys(COMMANDS), '')} (commands: ${Object.keys(COMMANDS).join(', ')}; fedrec --help)\n`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof HelpRequest) {
      process.stdout.write(commandHelp(command, err));
      return 0;
    }
    const known = userMessage(err);
    process.stderr.write(`fedrec ${command}: ${known ?? `internal error: ${(err as Error)?.message ?? String(err)}`}\n`);
    if (debug) process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    else if (!known) process.stderr.write(`fedrec ${command}: run again with --debug to see where it happened\n`);
    return known ? 2 : 1;
  }
}

/** The one line a user sees for an expected failure, or null for an unexpected one. */
export function userMessage(err: unknown): string | null {
  if (err instanceof UsageError || err instanceof DataError || err instanceof MissingPackageError) return err.message;
  if (err instanceof ConfigError) return describeConfigError(err, asFlag);
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && e.path && ['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ENOSPC', 'EROFS', 'EMFILE'].includes(e.code)) {
    return `${e.path}: ${e.message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '')}`;
  }
  return null;
}

function commandHelp(command: string, req: HelpRequest): string {
  const summary = new RegExp(`^  ${command}\\s+(.*)$`, 'm').exec(USAGE)?.[1];
  return `usage: fedrec ${command} [flags]${summary ? `\n${summary}` : ''}\n\n${flagHelp(req.specs)}\n`;
}
