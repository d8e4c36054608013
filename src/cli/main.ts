/**
 * Entry of the `convenant` command (bin/convenant.js imports the built copy of this file).
 * Everything testable lives in program.ts; this file only binds it to the real process.
 */
import { execute } from './program.js';

/**
 * `convenant explain … | head -1`: once the reader has gone, the rest of the output is dropped
 * and the command still finishes with its own exit code, instead of dying on an unhandled EPIPE
 * 'error' event with a stack trace.
 */
function guardedWriter(stream: NodeJS.WriteStream): (text: string) => void {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') process.exitCode = 1;
    closed = true;
  });
  return (text) => {
    if (!closed) stream.write(text);
  };
}

const writeOut = guardedWriter(process.stdout);
const writeErr = guardedWriter(process.stderr);

try {
  process.exitCode = await execute(process.argv.slice(2), {
    writeOut,
    writeErr,
    isTTY: process.stdout.isTTY,
    env: process.env,
  });
} catch (error) {
  // Loaded only here, so that a command that needs no database does not load pg to start.
  const [{ ConfigError }, { EmbeddedPostgresError }] = await Promise.all([
    import('../config/config.js'),
    import('../db/embedded-postgres.js'),
  ]);
  // Failures a person can fix (configuration, the database not starting) get a sentence, not a stack.
  const explained = error instanceof ConfigError || error instanceof EmbeddedPostgresError;
  writeErr(
    `convenant: ${explained ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
