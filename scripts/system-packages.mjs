// The Debian packages the test suite needs, and how to tell each is installed.
// .ci/run installs exactly these (without recommends); scripts/check-system.mjs
// refuses to run tests without them, and `npm test` installs them itself when
// it may (root, or sudo without a password).
//
// `files`: executables the tests start. `python`: the top-level Python modules
// the package provides. check-system.mjs imports every module the Python peers
// under test/ import (read from their import lines), and maps a module that
// fails to load to the package that provides it here. pymodbus's server
// imports `serial` and `serial_asyncio`, which Debian lists only as
// recommends of python3-pymodbus: `--no-install-recommends` leaves them out,
// so they are listed on their own.

export const SYSTEM_PACKAGES = [
  { name: 'chromium', why: 'browser tests (playwright-core drives /usr/bin/chromium)', files: ['/usr/bin/chromium'] },
  {
    name: 'mosquitto',
    why: 'a real MQTT broker (readings in, state out, Home Assistant discovery)',
    files: ['/usr/sbin/mosquitto', '/usr/bin/mosquitto_passwd'],
  },
  {
    name: 'prometheus',
    why: 'promtool checks the shipped alert rules, their unit tests and a real /metrics scrape',
    files: ['/usr/bin/promtool'],
  },
  { name: 'python3-pymodbus', why: 'an independent Modbus peer (TCP and RTU)', python: ['pymodbus'] },
  { name: 'python3-serial', why: "pymodbus's server and the late RTU peer import serial", python: ['serial'] },
  { name: 'python3-serial-asyncio', why: "pymodbus's server imports serial_asyncio", python: ['serial_asyncio'] },
  { name: 'python3-jinja2', why: "renders Home Assistant's value templates as HA does (Jinja2)", python: ['jinja2'] },
  { name: 'socat', why: 'a serial pseudo-terminal pair for Modbus RTU tests', files: ['/usr/bin/socat'] },
  {
    name: 'victoria-metrics',
    why: 'a real server speaking the InfluxDB v2 write API',
    files: ['/usr/bin/victoria-metrics'],
  },
];

/**
 * The Python the peers run under: Debian's, whose dist-packages hold python3-pymodbus (not a pyenv python3 on PATH).
 */
export const PYTHON = '/usr/bin/python3';

export const PACKAGE_NAMES = SYSTEM_PACKAGES.map((p) => p.name);

/** The install command for some of the packages (all by default). */
export const aptInstall = (names = PACKAGE_NAMES) => `apt-get install -y --no-install-recommends ${names.join(' ')}`;

export const APT_LINE = `sudo apt-get update && sudo ${aptInstall()}`;
