import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config/schema.js';

/**
 * Writes the fixture's config as the operator's microgrid.yaml (JSON is YAML),
 * for `mgx audit --config`: the audit re-runs meter-data validation with the
 * window and gap that config gives the metering step.
 */
export function writeConfigFile(dir: string, config: Config): string {
  const path = join(dir, 'microgrid.yaml');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}
