/**
 * Entry of the `convenant` command (bin/convenant.js imports the built copy of this file).
 * Everything testable lives in program.ts; this file only binds it to the real process.
 */
import { ConfigError } from '../config/config.js';
import { EmbeddedPostgresError } from '../db/embedded-postgres.js';
import { execute } from './program.js';

/** Failures a person can fix (configuration, the database not starting) get a sentence, not a stack. */
const explained = (error: unknown): error is Error =>
  error instanceof ConfigError || error instanceof EmbeddedPostgresError;

try {
  process.exitCode = await execute(process.argv.slice(2), {
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
    isTTY: process.stdout.isTTY,
    env: process.env,
  });
} catch (error) {
  process.stderr.write(
    `convenant: ${explained(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
