import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS_DIR, compileContracts } from './compile.js';

/** `npm run build:contracts`: compiles with solc-js and writes contracts/artifacts/<Name>.json. */
mkdirSync(ARTIFACTS_DIR, { recursive: true });
for (const [name, artifact] of Object.entries(compileContracts())) {
  const file = join(ARTIFACTS_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify(artifact, null, 2) + '\n');
  console.log(
    `wrote ${file} (${artifact.compiler.version}, default ${(artifact.bytecode.default.length - 2) / 2} B, london ${(artifact.bytecode.london.length - 2) / 2} B)`,
  );
}
