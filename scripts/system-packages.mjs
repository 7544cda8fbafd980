// The Debian packages the test suite needs, and how to tell each is installed.
// .ci/run installs exactly these; scripts/check-system.mjs refuses to run tests without them.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const has = (file) => existsSync(file);
const runs = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

export const SYSTEM_PACKAGES = [
  { name: 'chromium', why: 'browser tests (playwright-core drives /usr/bin/chromium)', ok: () => has('/usr/bin/chromium') },
  { name: 'python3-pymodbus', why: 'an independent Modbus peer (TCP and RTU)', ok: () => runs('/usr/bin/python3', ['-c', 'import pymodbus']) },
  { name: 'socat', why: 'a serial pseudo-terminal pair for Modbus RTU tests', ok: () => has('/usr/bin/socat') },
  { name: 'victoria-metrics', why: 'a real server speaking the InfluxDB v2 write API', ok: () => has('/usr/bin/victoria-metrics') },
];

export const APT_LINE = `apt-get update && apt-get install -y ${SYSTEM_PACKAGES.map((p) => p.name).join(' ')}`;
