import { Command, CommanderError } from 'commander';
import { auditCommand } from './commands/audit.command.js';
import { compileCommand } from './commands/compile.command.js';
import { dbCommand } from './commands/db.command.js';
import { explainCommand } from './commands/explain.command.js';
import { keysCommand } from './commands/keys.command.js';
import { gatewayKeyCommand } from './commands/gateway-key.command.js';
import { partnerKeyCommand } from './commands/partner-key.command.js';
import { retentionCommand } from './commands/retention.command.js';
import { testCommand } from './commands/test.command.js';
import { tokenCommand } from './commands/token.command.js';
import { validateCommand } from './commands/validate.command.js';
import { diffCommand } from './commands/diff.command.js';
import { matrixCommand } from './commands/matrix.command.js';
import { renderCommand } from './commands/render.command.js';
import { createContext, wantsColour, type CliContext, type CommandRegistration } from './context.js';

/**
 * The `convenant` program, built from a list of command registrations. Add a command (db, keys,
 * token, …) by writing `<name>.command.ts` under commands/ and appending it here; nothing else
 * changes. Commands are thin: they parse options, call src/policy (or a service) and print.
 */
export const COMMANDS: readonly CommandRegistration[] = [
  validateCommand,
  explainCommand,
  testCommand,
  compileCommand,
  dbCommand,
  keysCommand,
  gatewayKeyCommand,
  partnerKeyCommand,
  tokenCommand,
  auditCommand,
  retentionCommand,
  diffCommand,
  matrixCommand,
  renderCommand,
];

export function buildProgram(ctx: CliContext, commands: readonly CommandRegistration[] = COMMANDS): Command {
  const program = new Command('convenant')
    .description('Validate, explain, test and compile a machine-readable data-sharing convenant.')
    // Never call process.exit from inside: `run` returns the code, so commands run in-process in tests.
    .exitOverride()
    .configureOutput({
      writeOut: ctx.writeOut,
      writeErr: ctx.writeErr,
      outputError: (text, write) => write(ctx.style('red', text)),
    })
    .showHelpAfterError('(run with --help for usage)');
  for (const register of commands) register(program, ctx);
  return program;
}

export interface Streams {
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
  isTTY?: boolean;
  env: CliContext['env'];
}

/** Runs the program on `argv` (without node and script) and returns the exit code. */
export async function execute(
  argv: readonly string[],
  streams: Streams,
  commands = COMMANDS,
): Promise<number> {
  const ctx = createContext({ ...streams, colour: wantsColour(streams.isTTY, streams.env) });
  try {
    await buildProgram(ctx, commands).parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    // Commander has already printed its message (unknown option, missing argument, --help).
    if (error instanceof CommanderError) return error.exitCode;
    throw error;
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs in-process with captured output, never coloured: what specs and other tools call. */
export async function run(
  argv: readonly string[],
  env: CliContext['env'] = {},
  commands = COMMANDS,
): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await execute(
    argv,
    { writeOut: (t) => (stdout += t), writeErr: (t) => (stderr += t), isTTY: false, env },
    commands,
  );
  return { code, stdout, stderr };
}
