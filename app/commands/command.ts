import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  values: OptionValues;
  positionals: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** One `mgx` sub-command. Each lives in its own file under app/commands/. */
export interface Command {
  name: string;
  summary: string;
  /** Lines shown under "Options" by `mgx NAME --help`. */
  usage: string;
  options: OptionSpec;
  /** Returns the process exit code. Throws MicrogridError for user errors (exit 2). */
  run(ctx: CommandContext): Promise<number>;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: OptionSpec = {
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export const GLOBAL_USAGE = `  -c, --config FILE    configuration file (default: $MGX_CONFIG, ./microgrid.yaml, or the embedded demo)
      --data-dir DIR   folder for all state (default: $MGX_DATA_DIR or ./data)
  -h, --help           show help`;

export function dataDirOf(ctx: CommandContext): string {
  const v = ctx.values['data-dir'];
  return typeof v === 'string' ? v : ctx.env.MGX_DATA_DIR || './data';
}
