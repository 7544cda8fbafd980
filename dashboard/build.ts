import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Bundles the web client (dashboard/web/main.ts, with uPlot and its CSS) into
 * dashboard/public/dist/ with esbuild. The bundle is not committed: the
 * server builds it at start when it is missing or older than any source, so
 * `npm install && npm start` shows the UI on a fresh clone and an edited
 * source is never served stale. `npx tsx dashboard/build.ts` builds by hand.
 */

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const WEB_DIR = join(HERE, 'web');
export const DIST_DIR = join(HERE, 'public', 'dist');
const SOURCES = [WEB_DIR, join(HERE, 'live', 'model.ts')];
const OUTPUTS = ['app.js', 'app.css'];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(path)) m = Math.max(m, newestMtime(join(path, e)));
  return m;
}

export function bundleIsFresh(): boolean {
  try {
    const built = Math.min(...OUTPUTS.map((o) => statSync(join(DIST_DIR, o)).mtimeMs));
    return built >= Math.max(...SOURCES.map(newestMtime));
  } catch {
    return false;
  }
}

let building: Promise<void> | undefined;

export function ensureBundle(): Promise<void> {
  if (bundleIsFresh()) return Promise.resolve();
  return (building ??= buildBundle().finally(() => (building = undefined)));
}

export async function buildBundle(): Promise<void> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { app: join(WEB_DIR, 'main.ts') },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    write: false,
    outdir: DIST_DIR,
    logLevel: 'silent',
  });
  mkdirSync(DIST_DIR, { recursive: true });
  // Write each file beside its final name and rename: a server starting in
  // parallel (tests) never reads half a bundle.
  for (const f of result.outputFiles) {
    const tmp = join(DIST_DIR, `.${basename(f.path)}.${process.pid}.tmp`);
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = Date.now();
  await buildBundle();
  console.log(`dashboard bundle built in ${Date.now() - t0} ms → ${DIST_DIR}`);
}
