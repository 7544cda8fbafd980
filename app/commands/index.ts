import type { Command } from './command.js';
import { startCommand } from './start.js';
import { clearCommand } from './clear.js';

/** Every `mgx` sub-command, in the order `mgx --help` lists them. */
export const COMMANDS: readonly Command[] = [startCommand, clearCommand];
