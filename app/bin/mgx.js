#!/usr/bin/env node
// The `mgx` command. TypeScript runs through tsx: there is no build step.
// tsx is resolved from this file (the package's node_modules), and is given
// the package's own tsconfig: by default it reads the one in the current
// folder, which for a linked `mgx` run anywhere is some other project's.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) });
await import('../cli.ts');
