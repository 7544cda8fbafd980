import type { Command } from './command.js';
import { startCommand } from './start.js';
import { clearCommand } from './clear.js';
import { scanCommand } from './scan.js';
import { readCommand } from './read.js';
import { simulateCommand } from './simulate.js';
import { bridgeCommand } from './bridge.js';
import { statementsCommand } from './statements.js';
import { statusCommand } from './status.js';
import { doctorCommand } from './doctor.js';
import { auditCommand } from './audit.js';

/** Every `mgx` sub-command, in the order `mgx --help` lists them. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  clearCommand,
  scanCommand,
  readCommand,
  simulateCommand,
  bridgeCommand,
  statementsCommand,
  statusCommand,
  doctorCommand,
  auditCommand,
];
