#!/usr/bin/env node
// The `mgx` command. TypeScript runs through tsx: there is no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli.ts');
