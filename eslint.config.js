// Lint runs inside `npm test`: recommended rules and the type-aware promise
// rules. Which room may import which, matching-engine's no-I/O and the absence
// of import cycles are checked by dependency-cruiser (.dependency-cruiser.cjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'data/**',
      'contracts/artifacts/**',
      'dashboard/public/dist/**',
      'test-artifacts/**',
      'scratch/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
      },
      // Types come from tsconfig.json (which includes test/ and scripts/); the
      // few JavaScript files outside it get a default project.
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', '.dependency-cruiser.cjs', 'scripts/*.mjs', 'app/bin/*.js', 'audit/*.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // A promise nobody awaits loses its rejection (an unhandled rejection ends
      // the process); one passed where a callback's result is ignored does too.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // `void p` alone drops a rejection as surely as `p;`: it must end in
          // .catch (or be awaited); a deliberate fire-and-forget says why in an
          // eslint-disable comment.
          ignoreVoid: false,
          // node:test runs top-level test() and describe() itself; their promises
          // are the runner's to await.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
          // fastify's register() and reply.header() return the instance or the
          // reply, thenable for `await` style; chaining them is fastify's way.
          allowForKnownSafePromises: [
            { from: 'package', package: 'fastify', name: ['FastifyInstance', 'FastifyReply'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // SQL is written only in ledger/ (tests may keep theirs): everyone else
    // calls the ledger's named functions. A statement is prepare() or exec()
    // given SQL text; a RegExp's exec() takes a variable, and a device
    // reader's prepare() nothing.
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    ignores: ['ledger/**', 'test/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.type='MemberExpression'][callee.property.name=/^(prepare|exec)$/][arguments.0.type=/^(Literal|TemplateLiteral)$/]",
          message: 'SQL lives in ledger/: add a named function there and call it.',
        },
      ],
    },
  },
  {
    // dependency-cruiser reads its configuration with require().
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } },
  },
  {
    // The dashboard's page code: a rejected promise there is logged by the
    // browser and ends nothing, and each view shows its own load errors; so a
    // `void load()` from an event handler is enough.
    files: ['dashboard/web/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }] },
  },
);
