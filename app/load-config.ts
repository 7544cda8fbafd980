import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../core/config/schema.js';
import { parseConfigText } from '../core/config/validate.js';
import { demoConfig } from '../core/config/demo.js';
import { MicrogridError } from '../core/errors.js';
import { resolveSecret } from '../core/config/secrets.js';

export interface LoadedConfig {
  config: Config;
  /** Where it came from: a file path, or "embedded demo". */
  source: string;
}

/**
 * The config file is `--config`, else `MGX_CONFIG`, else `./microgrid.yaml`
 * if present, else the embedded demo. A path given explicitly must exist.
 * `secrets: false` is for commands that only read local state (`mgx status`,
 * `mgx audit`): they need no token or key, so a missing one must not stop them.
 */
export function loadConfig(
  opts: { path?: string | undefined; env?: NodeJS.ProcessEnv; cwd?: string; secrets?: boolean } = {},
): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const explicit = opts.path ?? (env.MGX_CONFIG || undefined);
  let file: string | undefined;
  if (explicit !== undefined) {
    file = resolve(cwd, explicit);
    if (!existsSync(file)) {
      throw new MicrogridError('CONFIG_NOT_FOUND', `no configuration file at ${file}`, {
        field: opts.path !== undefined ? '--config' : 'MGX_CONFIG',
        value: explicit,
        expected: 'the path of a microgrid.yaml file (omit it to run the embedded demo)',
      });
    }
  } else if (existsSync(resolve(cwd, 'microgrid.yaml'))) {
    file = resolve(cwd, 'microgrid.yaml');
  }
  if (file === undefined) return { config: demoConfig(), source: 'embedded demo' };
  const config = parseConfigText(readFileSync(file, 'utf8'), file);
  if (opts.secrets !== false) checkSecrets(config, env);
  return { config, source: file };
}

/** Every secret the config names must be readable at start, not at first use. */
function checkSecrets(config: Config, env: NodeJS.ProcessEnv): void {
  if (config.chain.privateKey) resolveSecret(config.chain.privateKey, 'chain.privateKey', env);
  if (config.influx?.token) resolveSecret(config.influx.token, 'influx.token', env);
  config.auth.tokens.forEach((t, i) => resolveSecret(t.token, `auth.tokens[${i}].token`, env));
}
