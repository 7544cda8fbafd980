// Lint runs inside `npm test`. Recommended rules plus the project's one boundary rule:
// the matching engine stays pure (it may import only core/).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'contracts/artifacts/**', 'dashboard/public/dist/**', 'test-artifacts/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['matching-engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http'], message: 'matching-engine is pure: no I/O.' },
        { group: ['../ledger/*', '../settlement/*', '../meter-bridge/*', '../dashboard/*', '../app/*', '../contracts/*'], message: 'matching-engine may import only core/.' },
      ] }],
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../../ledger/*', '../../settlement/*', '../../meter-bridge/*', '../../dashboard/*', '../../app/*', '../ledger/*', '../settlement/*', '../meter-bridge/*', '../dashboard/*', '../app/*', '../matching-engine/*'], message: 'core/ imports nothing of ours.' },
      ] }],
    },
  },
);
