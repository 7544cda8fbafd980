// Entry point of the `mgx` command (`tsx app/cli.ts …`, or app/bin/mgx.js).
import { main, reportError } from './main.js';

main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportError(err, process.stderr, process.env);
  },
);
