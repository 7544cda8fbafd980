import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * Finds `.prepare(…)` / `.exec(…)` calls on a database in source files, for
 * the house rule that SQL lives only in ledger/. A name alone does not tell a
 * database from the rest (`regex.exec(line)`, a device reader's `prepare()`),
 * so the type checker decides: a receiver whose type has both `prepare` and
 * `exec` is a database (better-sqlite3's Database, node:sqlite's
 * DatabaseSync). A receiver typed `any` counts when the call passes SQL text.
 */

export interface SqlSite {
  /** Path relative to the root, with the 1-based line: `app/x.ts:12`. */
  at: string;
  call: string;
}

/** Folders never scanned: ledger/ may hold SQL, tests may keep theirs, the rest is not our source. */
const SKIP = new Set(['ledger', 'test', 'node_modules', '.git', 'data', 'test-artifacts', 'scratch']);
const SKIP_PATHS = new Set(['contracts/artifacts', 'dashboard/public/dist']);
const SOURCE = /\.(c|m)?(t|j)s$/;
const SQL_TEXT = /^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|WITH|BEGIN|COMMIT|ROLLBACK)\b/i;

/** Source files under `root`, outside the folders SKIP and SKIP_PATHS name, sorted. */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, e.name);
      const rel = relative(root, path);
      if (e.isDirectory()) {
        if (!SKIP.has(e.name) && !SKIP_PATHS.has(rel)) walk(path);
      } else if (SOURCE.test(e.name) && !e.name.endsWith('.d.ts')) out.push(path);
    }
  };
  walk(root);
  return out;
}

/**
 * The database calls in `files`. `overlay` gives the text of files that are not on disk (the check's own test), by
 * absolute path; they are resolved as if they were, so they import what a file at that place would.
 */
export function findSqlSites(
  root: string,
  files: readonly string[],
  overlay: ReadonlyMap<string, string> = new Map(),
): SqlSite[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    allowJs: true,
    noEmit: true,
    skipLibCheck: true,
    resolveJsonModule: true,
    types: ['node'],
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.readFile = (f) => overlay.get(f) ?? read(f);
  host.fileExists = (f) => overlay.has(f) || exists(f);
  const program = ts.createProgram({ rootNames: [...files, ...overlay.keys()], options, host });
  const checker = program.getTypeChecker();
  const wanted = new Set([...files, ...overlay.keys()]);
  const sites: SqlSite[] = [];
  for (const sf of program.getSourceFiles()) {
    if (!wanted.has(sf.fileName)) continue;
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        ['prepare', 'exec'].includes(node.expression.name.text) &&
        isDatabaseCall(checker, node)
      ) {
        // The line of `.prepare` itself: a chained call spreads over several.
        const name = node.expression.name;
        const line = sf.getLineAndCharacterOfPosition(name.getStart(sf)).line + 1;
        sites.push({
          at: `${relative(root, sf.fileName)}:${line}`,
          call: '.' + sf.text.slice(name.getStart(sf), node.end).split('\n')[0]!.slice(0, 100),
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return sites;
}

function isDatabaseCall(checker: ts.TypeChecker, call: ts.CallExpression): boolean {
  const receiver = (call.expression as ts.PropertyAccessExpression).expression;
  const type = checker.getNonNullableType(checker.getTypeAtLocation(receiver));
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) {
    const first = call.arguments[0];
    return (
      first !== undefined &&
      (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first) || ts.isTemplateExpression(first)) &&
      SQL_TEXT.test(first.getText().slice(1))
    );
  }
  return type.getProperty('prepare') !== undefined && type.getProperty('exec') !== undefined;
}
