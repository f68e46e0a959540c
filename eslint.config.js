// @ts-check
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/**
 * Lint rules double as architecture rules (docs/decisions.md #1, #2):
 * - only src/db may import the pg driver (SQL lives in one layer);
 * - src/core is pure: no I/O modules, no process, no clocks;
 * - src/worker never imports src/api;
 * - src/api reaches the database only through engine services: it imports no value from src/db
 *   (types such as `Pool`, handed on to the services, are allowed);
 * - src/api never imports src/server (the process wires the app: server → api, not back).
 */
export default tseslint.config(
  {
    ignores: [
      'dist/**', 'node_modules/**', 'dashboard/dist/**', 'bench/results/**',
      // Only the project's own folders and root config files: a reader's scratch file in the root
      // (README's first-job.ts) or in any other folder is outside the TypeScript project, so
      // type-aware linting could not parse it and `npm test` would fail on it.
      '*', '!src/', '!test/', '!bench/', '!scripts/', '!bin/', '!eslint.config.js',
      '!dashboard/', 'dashboard/*', '!dashboard/src/', '!dashboard/vite.config.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': ['error', {
        // node:test's test()/describe() return promises the runner itself awaits.
        allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'describe', 'it', 'suite'], package: 'node:test' }],
      }],
      // Handlers and loops pass async callbacks to timers and emitters on purpose; each one catches its own errors.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // Template literals with numbers are fine in log messages and SQL identifiers built from constants.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
    },
  },
  // The dashboard: the classic rules of hooks on top of the above (not the React Compiler's
  // opinions, which forbid the load-in-an-effect pattern every page uses).
  {
    files: ['dashboard/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/db/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'pg', message: 'SQL and the pg driver live in src/db only.' }] }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        // node:net's BlockList and isIP are pure computation (address parsing and range matching,
        // used by src/core/ip-ranges.ts); everything else in node:net opens sockets.
        paths: [{ name: 'node:net', allowImportNames: ['BlockList', 'isIP'], message: 'src/core is pure: no I/O (only BlockList and isIP of node:net).' }],
        patterns: [
          { group: ['node:fs*', 'node:http*', 'node:child_process', 'node:dns*', 'pg', '../db/*', '../worker/*', '../scheduler/*', '../api/*'], message: 'src/core is pure: no I/O.' },
        ],
      }],
      'no-restricted-globals': ['error', { name: 'process', message: 'src/core must not read the process.' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Inject a clock instead.' }],
    },
  },
  {
    files: ['src/worker/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'pg', message: 'SQL and the pg driver live in src/db only.' }],
        patterns: [{ group: ['../api/*', '../../api/*'], message: 'The worker runtime never imports the API.' }],
      }],
    },
  },
  {
    // The layers that decide things take the time from an injected clock (src/core/deps.ts), so
    // tests can move it; only src/engine/clock.ts reads the wall clock.
    files: ['src/core/**/*.ts', 'src/engine/**/*.ts', 'src/api/**/*.ts', 'src/scheduler/**/*.ts', 'src/worker/**/*.ts'],
    ignores: ['src/engine/clock.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Inject a clock (src/core/deps.ts Clock) instead.' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'new Date() reads the wall clock: inject a clock (src/core/deps.ts Clock) and use new Date(clock.nowMs()).' }],
    },
  },
  {
    files: ['src/api/**/*.ts'],
    rules: {
      // Routes and plugins are Fastify plugins: async functions by contract, awaiting or not.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['../db/*', '../../db/*', '../../../db/*'], allowTypeImports: true, message: 'Routes reach the database only through engine services (src/engine).' },
          { group: ['../server/*', '../../server/*', '../../../server/*'], message: 'src/server builds the process and hands the API what it needs (AppDeps); the API never imports it.' },
        ],
      }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { parserOptions: { projectService: false }, globals: { URL: 'readonly', process: 'readonly', console: 'readonly' } },
  },
);
