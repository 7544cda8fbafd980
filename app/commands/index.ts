import type { Command } from './command.js';
import { startCommand } from './start.js';

/** Every `mgx` sub-command, in the order `mgx --help` lists them. */
export const COMMANDS: readonly Command[] = [startCommand];
