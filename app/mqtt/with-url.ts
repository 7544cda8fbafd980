import type { Config } from '../../core/config/schema.js';
import { validateConfig } from '../../core/config/validate.js';

/**
 * `mgx start --mqtt URL`: the broker URL over the config's. The embedded demo
 * has no file to list households in, and all its households are simulated, so
 * there it publishes all of them (`households: all`); a configured deployment
 * keeps its own list, and with no mqtt section publishes none until the
 * operator lists them.
 */
export function withMqttUrl(config: Config, url: string, embeddedDemo: boolean): Config {
  const mqtt = config.mqtt ? { ...config.mqtt, url } : { url, households: embeddedDemo ? ('all' as const) : [] };
  return validateConfig(
    { ...config, mqtt },
    `${embeddedDemo ? 'the embedded demo' : 'the configuration'} with --mqtt ${url}`,
  );
}
