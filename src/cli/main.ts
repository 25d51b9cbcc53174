/**
 * The `fedrec` command: dispatches to subcommands and turns every expected failure (bad flags,
 * bad config, bad data) into one clear line on stderr and exit code 2 — never a stack trace.
 */
import { ConfigError } from '../runtime/config.js';
import { DataError } from '../data/errors.js';
import { UsageError } from './flags.js';
import { trainCommand, trainHelp } from './train.js';
import { recommendCommand } from './recommend.js';

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  train: trainCommand,
  recommend: recommendCommand,
  // Deployment commands load their modules on use (a join process need not load fastify or SQLite).
  serve: async (argv) => (await import('./serve.js')).serveCommand(argv),
  token: async (argv) => (await import('./token.js')).tokenCommand(argv),
  join: async (argv) => (await import('./join.js')).joinCommand(argv),
  partition: async (argv) => (await import('./partition.js')).partitionCommand(argv),
};

const USAGE = `usage: fedrec <command> [flags]

commands:
  train       train (federated or centralised) and evaluate; --help for flags
  recommend   top-K recommendations from a saved model, or on-device from a coordinator (--server)
  serve       run the federated coordinator (--config FILE [--port] [--db PATH])
  token       token create [--db PATH] [--expires-in 30d]: issue client tokens; token revoke (--id N | --token T)
  join        take part in training (--server URL --token T --data FILE)
  partition   write one client data file per federated client of a data set
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`fedrec: unknown command '${command}'; expected one of: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  if (command === 'train' && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(trainHelp() + '\n');
    return 0;
  }
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof DataError) {
      process.stderr.write(`fedrec ${command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
