import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Jest runs TypeScript as ESM (NestJS 12 is ESM-only): ts-jest with useESM, and
 * NODE_OPTIONS=--experimental-vm-modules set by the npm scripts.
 *
 * Three projects, so a fast loop can run one (`npm run test:unit`, `test:medium`, `test:e2e`):
 * - unit: specs beside the code (src/**\/*.spec.ts) that start no PostgreSQL, so none is started;
 * - medium: the specs beside the code that do (they import the test database, app or gateway
 *   helpers, or the embedded server: read from each file, so a spec moves when it starts using
 *   one), and test/*.spec.ts (the browser and image checks);
 * - e2e: test/*.e2e-spec.ts, the real gateway over real HTTP.
 * @type {import('jest').Config}
 */
const USES_DATABASE = /support\/(?:database|app|gateway-process)\.js'|db\/embedded-postgres\.js'/;

const root = path.dirname(fileURLToPath(import.meta.url));

function specsUnder(dir) {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.spec.ts'))
    .map((file) => path.join(dir, file));
}

const escape = (file) => file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const databaseSpecs = specsUnder('src')
  .filter((file) => USES_DATABASE.test(readFileSync(path.join(root, file), 'utf8')))
  .map((file) => `/${escape(file)}$`);

const common = {
  testEnvironment: 'node',
  testTimeout: 30000,
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
};

// One PostgreSQL for the run, started by whichever project needing it comes first (the set-up
// and tear-down are idempotent), and not at all for the unit project alone.
const withDatabase = {
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
};

export default {
  testTimeout: 30000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/src'],
      testMatch: ['**/*.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...databaseSpecs],
    },
    {
      ...common,
      ...withDatabase,
      displayName: 'medium',
      roots: ['<rootDir>/src', '<rootDir>/test'],
      testRegex: [...databaseSpecs, '/test/[^/]+\\.spec\\.ts$'],
    },
    {
      ...common,
      ...withDatabase,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
    },
  ],
};
