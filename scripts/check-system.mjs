#!/usr/bin/env node
// Fails (never skips) when a system package or a native addon the suite needs is missing,
// and prints the one line that fixes it.
import { SYSTEM_PACKAGES, APT_LINE } from './system-packages.mjs';
import { createRequire } from 'node:module';

export function checkSystem() {
  const problems = [];
  const missing = SYSTEM_PACKAGES.filter((p) => !p.ok());
  if (missing.length) {
    problems.push(
      `missing system packages: ${missing.map((p) => `${p.name} (${p.why})`).join(', ')}.\nInstall them with:\n  sudo ${APT_LINE}`,
    );
  }
  try {
    const require = createRequire(import.meta.url);
    const Database = require('better-sqlite3');
    new Database(':memory:').close();
  } catch (err) {
    problems.push(`the better-sqlite3 native addon does not load (${err.message.split('\n')[0]}).\nRebuild it with:\n  npm rebuild better-sqlite3`);
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = checkSystem();
  for (const p of problems) console.error(`npm test: ${p}`);
  process.exit(problems.length ? 1 : 0);
}
