// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Optional peer dependencies are imported only under src/adapters/ (by their subpath).
const peerImports = ['ioredis', 'better-sqlite3', 'prom-client', '@opentelemetry/api', '@nestjs/common', 'express', 'fastify'].map((name) => ({
  name,
  message: 'Optional peer dependencies are imported only under src/adapters/.',
}));
// core/ and policies/ have no runtime dependency at all.
const runtimeImports = ['lru-cache', 'croner', 'devalue', 'yaml'].map((name) => ({ name, message: 'core and policies have no runtime dependency.' }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', performance: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'Use explicit named exports in barrels.' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/adapters/**'],
    rules: { 'no-restricted-imports': ['error', { paths: peerImports }] },
  },
  {
    files: ['src/core/**/*.ts', 'src/policies/**/*.ts'],
    // The two modules that own the process's real timers.
    ignores: ['src/core/deadline-scheduler.ts', 'src/core/coarse-time.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use clock.schedule(): one shared deadline scheduler drives every timer.' },
        { name: 'setInterval', message: 'Use clock.schedule(): no interval timers in core or policies.' },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Use clock.now().' }],
      'no-restricted-imports': [
        'error',
        {
          paths: [...peerImports, ...runtimeImports],
          patterns: [{ group: ['../adapters/*', '../../adapters/*'], message: 'core and policies never import adapters.' }],
        },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...peerImports, ...runtimeImports],
          patterns: [{ group: ['../policies/*', '../adapters/*'], message: 'core imports nothing of ours above it.' }],
        },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', 'bench/**', 'examples/**'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', require: 'readonly', global: 'readonly', URL: 'readonly', fetch: 'readonly', Buffer: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' },
    },
  },
);
