import { parseArgs } from 'node:util';
import { COMMANDS } from './commands/index.js';
import { GLOBAL_OPTIONS, GLOBAL_USAGE, type Command, type CommandContext } from './commands/command.js';
import { MicrogridError } from '../core/errors.js';
import { VERSION } from './version.js';
import { EXIT_CODES, EXIT_FAILURE } from './exit-codes.js';

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `mgx ${VERSION} — microgrid-exchange, peer-to-peer energy trading for one microgrid

Usage: mgx COMMAND [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options for every command:
${GLOBAL_USAGE}

Run "mgx COMMAND --help" for a command's own options.
`;
}

function commandHelp(c: Command): string {
  return `mgx ${c.name} — ${c.summary}\n\nUsage: mgx ${c.name} [options]\n\nOptions:\n${c.usage ? c.usage + '\n' : ''}${GLOBAL_USAGE}\n`;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 bad input (usage, config, data). */
export async function main(
  argv: string[],
  io: Pick<CommandContext, 'stdout' | 'stderr' | 'env' | 'cwd'>,
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(mainHelp());
    return 0;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    io.stderr.write(
      `mgx: unknown command ${JSON.stringify(first)}; expected one of ${COMMANDS.map((c) => c.name).join(', ')}. Run "mgx --help".\n`,
    );
    return 2;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...GLOBAL_OPTIONS, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new MicrogridError('USAGE', `${(err as Error).message}. Run "mgx ${command.name} --help"`);
    }
    if (parsed.values.help) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    return await command.run({ ...io, values: parsed.values, positionals: parsed.positionals });
  } catch (err) {
    return reportError(err, io.stderr, io.env);
  }
}

/** User errors print one paragraph and exit 2; anything else prints its message and exits 1. */
export function reportError(err: unknown, stderr: NodeJS.WritableStream, env: NodeJS.ProcessEnv): number {
  if (err instanceof MicrogridError) {
    // One line by default; MGX_DEBUG adds the full text (docs anchor, the cause's details).
    stderr.write(`mgx: ${err.message} [${err.code}]\n${env.MGX_DEBUG ? `${err.toString()}\n` : ''}`);
    return EXIT_CODES[err.code];
  }
  const e = err as Error;
  stderr.write(
    `mgx: unexpected error: ${e?.message ?? String(err)}${env.MGX_DEBUG ? `\n${e?.stack ?? ''}` : ' (set MGX_DEBUG=1 for the stack trace)'}\n`,
  );
  return EXIT_FAILURE;
}
