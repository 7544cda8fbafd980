import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// README.md is what a newcomer reads in ten minutes, ARCHITECTURE.md the decisions
// only; reference detail belongs in docs/. These bounds keep them that way.
const root = fileURLToPath(new URL('../../', import.meta.url));
const README_MAX_BYTES = 12_288;
const ARCHITECTURE_MAX_BYTES = 20_480;

const docsDir = join(root, 'docs');
const documents = [
  join(root, 'README.md'),
  join(root, 'ARCHITECTURE.md'),
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(docsDir, f)),
];

/** The text outside fenced code blocks: a `#` or `[x](y)` inside a fence is code, not Markdown. */
function prose(text: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    else if (!fenced) lines.push(line);
  }
  return lines;
}

/**
 * GitHub's heading anchor (lower case, punctuation dropped, spaces to hyphens, repeats numbered), and the
 * explicit `<a id="…">` anchors docs/errors.md gives each code in its table rows.
 */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of prose(text)) {
    for (const m of line.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(m[1]!);
    const title = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (title === undefined) continue;
    const slug = title
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Relative link targets in the prose (inline code removed first), as [path, anchor]. */
function relativeLinks(text: string): Array<[string, string | undefined]> {
  const links: Array<[string, string | undefined]> = [];
  for (const line of prose(text)) {
    const plain = line.replace(/`[^`]*`/g, '');
    for (const [, target = ''] of plain.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const hash = target.indexOf('#');
      links.push(
        hash === -1 ? [target, undefined] : [target.slice(0, hash), decodeURIComponent(target.slice(hash + 1))],
      );
    }
  }
  return links;
}

test('README.md and ARCHITECTURE.md stay within their sizes', () => {
  const readme = statSync(join(root, 'README.md')).size;
  const architecture = statSync(join(root, 'ARCHITECTURE.md')).size;
  assert.ok(readme <= README_MAX_BYTES, `README.md is ${readme} bytes; at most ${README_MAX_BYTES}`);
  assert.ok(
    architecture <= ARCHITECTURE_MAX_BYTES,
    `ARCHITECTURE.md is ${architecture} bytes; at most ${ARCHITECTURE_MAX_BYTES}`,
  );
});

test('every relative link in README.md, ARCHITECTURE.md and docs/*.md names an existing file and heading', () => {
  const broken: string[] = [];
  for (const doc of documents) {
    const text = readFileSync(doc, 'utf8');
    for (const [path, anchor] of relativeLinks(text)) {
      const target = path === '' ? doc : join(dirname(doc), path);
      const where = `${relative(root, doc)} → ${path}${anchor === undefined ? '' : `#${anchor}`}`;
      if (!existsSync(target)) {
        broken.push(`${where}: no such file`);
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(anchor)) {
        broken.push(`${where}: no such heading`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test('the anchor rule matches GitHub on the headings these documents use', () => {
  const anchors = anchorsOf(
    [
      '## The book file (`mgx clear --book book.json`)',
      '### Self-netting (issue 12), 2026-12-02 — current',
      '```yaml',
      '# a comment in a fence is not a heading',
      '```',
      '## Dashboard',
      '## Dashboard',
    ].join('\n'),
  );
  assert.deepEqual(
    [...anchors],
    [
      'the-book-file-mgx-clear---book-bookjson',
      'self-netting-issue-12-2026-12-02--current',
      'dashboard',
      'dashboard-1',
    ],
  );
});
