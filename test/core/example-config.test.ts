import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema } from '../../core/config/schema.js';
import { loadConfig } from '../../app/load-config.js';
import { ROOT } from '../helpers/mgx-process.js';

const FILE = join(ROOT, 'microgrid.example.yaml');

/** Every key name of the schema's objects: nested ones, list items and union branches included. */
function keyNames(s: TSchema, out = new Set<string>()): Set<string> {
  if (s.type === 'array' && s.items) keyNames(s.items as TSchema, out);
  for (const branch of (s.anyOf ?? []) as TSchema[]) keyNames(branch, out);
  for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, TSchema>)) {
    out.add(k);
    keyNames(v, out);
  }
  return out;
}

test('microgrid.example.yaml loads through the config loader, secrets and all', () => {
  const env = {
    MGX_SETTLER_KEY: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
    INFLUX_TOKEN: 'example-influx-token',
    MGX_OPERATOR_TOKEN: 'operator-token-0123456789',
    MGX_AUDITOR_TOKEN: 'auditor-token-0123456789',
  };
  // The household's token file of the example does not exist here: the loader reports exactly it.
  assert.throws(
    () => loadConfig({ path: FILE, env, cwd: ROOT }),
    (e: Error & { code?: string; field?: string }) => e.code === 'SECRET_MISSING' && e.field === 'auth.tokens[2].token',
  );
  const { config, source } = loadConfig({ path: FILE, env, cwd: ROOT, secrets: false });
  assert.equal(source, FILE);
  assert.equal(config.microgrid.name, 'Sunny Lane');
  assert.deepEqual(
    config.bridge.devices.map((d) => [d.id, d.kind, d.transport.type]),
    [
      ['inverter-1', 'sunspec', 'tcp'],
      ['meter-1', 'profile', 'rtu'],
    ],
  );
  assert.equal(config.participants[0]!.meters[1]!.device, 'inverter-1');
});

test('microgrid.example.yaml shows every section of the schema, each under a comment, and every setting by name', () => {
  const text = readFileSync(FILE, 'utf8');
  const lines = text.split('\n');
  for (const section of Object.keys(ConfigSchema.properties)) {
    const at = lines.findIndex((l) => l.startsWith(`${section}:`));
    assert.ok(at > 0, `section ${section} is in the example`);
    assert.match(lines[at - 1]!, /^#/, `section ${section} has a comment above it`);
  }
  // A setting added to the schema fails here until the example shows it (set, or commented out with its meaning).
  const missing = [...keyNames(ConfigSchema)].filter((k) => !new RegExp(`(^|[\\s{,#])${k}:`, 'm').test(text));
  assert.deepEqual(missing, []);
});
