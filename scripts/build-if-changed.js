import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What `npm start` (scripts/start.js) builds before it starts the gateway: the same three steps as `npm run build`,
 * each skipped when its inputs are older than its last output, all in one Node.js process.
 * `tsc -b` alone already builds only what changed, but finding that out costs it about a second
 * (loading TypeScript and reading every file's state), which a warm start should not pay; a
 * walk over the inputs' modification times costs a few milliseconds.
 */
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const stamp = path.join(root, 'dist', '.start-build');

/** What tsconfig.build.json compiles, the JSON it imports, and what decides how it compiles. */
const TS_INPUTS = [
  'src',
  'migrations',
  'bench',
  'policies/convenant.schema.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'package-lock.json',
];

function newest(file) {
  const stats = statSync(file, { throwIfNoEntry: false });
  if (!stats) return Infinity; // gone: something changed
  if (!stats.isDirectory()) return stats.mtimeMs;
  let latest = stats.mtimeMs; // a file removed or renamed
  for (const entry of readdirSync(file)) latest = Math.max(latest, newest(path.join(file, entry)));
  return latest;
}

function typescriptUpToDate() {
  const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs;
  return built !== undefined && Math.max(...TS_INPUTS.map((f) => newest(path.join(root, f)))) < built;
}

if (!typescriptUpToDate()) {
  const started = new Date();
  const tsc = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'],
    { cwd: root, stdio: 'inherit' },
  );
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  // The time the build started: a file saved while it ran is newer, so the next start builds again.
  writeFileSync(stamp, '');
  utimesSync(stamp, started, started);
}

// Each writes only when its inputs changed (see their own comments).
const { writePrecompiled } = await import('../dist/src/policy/schema-validator.js');
await writePrecompiled();
const argv = process.argv;
process.argv = [...argv, '--if-changed'];
await import('../web/build.js');
process.argv = argv;
