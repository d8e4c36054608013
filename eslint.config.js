import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.convenant/', 'web/dist/', 'web/src/api-schema.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Nest modules and DTOs are classes with decorators and no members of their own.
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    // The policy engine is a pure library shared by the CLI, the gateway and the tests: no
    // framework, database or HTTP, and nothing from the gateway's other folders.
    files: ['src/policy/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@nestjs/*',
                '@fastify/*',
                'typeorm',
                'typeorm/*',
                'pg',
                'pg-*',
                'fastify',
                'fastify-*',
                'jose',
              ],
              message: 'src/policy is pure: no framework, database, HTTP or token library.',
            },
            {
              group: ['node:http', 'node:https', 'node:http2', 'node:net', 'http', 'https', 'http2', 'net'],
              message: 'src/policy is pure: no network I/O.',
            },
            {
              group: [
                '**/access-log/**',
                '**/audit/**',
                '**/auth/**',
                '**/cases/**',
                '**/cli/**',
                '**/common/**',
                '**/config/**',
                '**/convenant/**',
                '**/db/**',
                '**/ops/**',
                '**/retention/**',
                '**/signals/**',
                '**/web/**',
                '**/demo/**',
                '**/health/**',
                '**/kernel/**',
                '**/keys/**',
                '**/app.factory.js',
                '**/app.module.js',
                '**/main.js',
                '**/openapi.js',
              ],
              message:
                'src/policy depends on nothing else in src/: the gateway depends on it, never the reverse.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', globalThis: 'readonly' } },
  },
  {
    // CommonJS config files (depcruise reads its configuration with require).
    files: ['**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } },
  },
);
