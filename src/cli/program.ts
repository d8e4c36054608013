import { Command, CommanderError } from 'commander';
import { createContext, wantsColour, type CliContext, type CommandRegistration } from './context.js';

/** A command by name, and how to load its registration (only when it is the one invoked). */
export interface LazyCommand {
  readonly name: string;
  readonly load: () => Promise<CommandRegistration>;
}

/**
 * The `convenant` commands. Each is imported only when invoked, so `convenant validate` loads
 * the policy engine and commander, not Nest, TypeORM and pg (which `db`, `audit` and `retention`
 * need): a jurist runs validate dozens of times an hour. Add a command by writing
 * `<name>.command.ts` under commands/ and adding a line here; program.spec checks that each
 * entry registers the command it is named after. Commands are thin: they parse options, call
 * src/policy (or a service) and print.
 */
export const COMMANDS: readonly LazyCommand[] = [
  { name: 'validate', load: async () => (await import('./commands/validate.command.js')).validateCommand },
  { name: 'explain', load: async () => (await import('./commands/explain.command.js')).explainCommand },
  { name: 'test', load: async () => (await import('./commands/test.command.js')).testCommand },
  { name: 'compile', load: async () => (await import('./commands/compile.command.js')).compileCommand },
  { name: 'db', load: async () => (await import('./commands/db.command.js')).dbCommand },
  { name: 'keys', load: async () => (await import('./commands/keys.command.js')).keysCommand },
  { name: 'token', load: async () => (await import('./commands/token.command.js')).tokenCommand },
  { name: 'audit', load: async () => (await import('./commands/audit.command.js')).auditCommand },
  { name: 'retention', load: async () => (await import('./commands/retention.command.js')).retentionCommand },
  { name: 'diff', load: async () => (await import('./commands/diff.command.js')).diffCommand },
  { name: 'matrix', load: async () => (await import('./commands/matrix.command.js')).matrixCommand },
  { name: 'render', load: async () => (await import('./commands/render.command.js')).renderCommand },
  {
    name: 'gateway-key',
    load: async () => (await import('./commands/gateway-key.command.js')).gatewayKeyCommand,
  },
  {
    name: 'partner-key',
    load: async () => (await import('./commands/partner-key.command.js')).partnerKeyCommand,
  },
  { name: 'init', load: async () => (await import('./commands/init.command.js')).initCommand },
];

/**
 * The registrations needed for `argv`: the named command alone, or every command when none is
 * named (help, an unknown command: commander then lists them all and suggests the closest).
 */
export async function commandsFor(
  argv: readonly string[],
  commands: readonly LazyCommand[] = COMMANDS,
): Promise<CommandRegistration[]> {
  const named = commands.find((c) => c.name === argv[0]);
  const registrations: CommandRegistration[] = [];
  // One at a time: Jest's ESM loader fails on concurrent imports that share a module.
  for (const command of named ? [named] : commands) registrations.push(await command.load());
  return registrations;
}

export function buildProgram(ctx: CliContext, registrations: readonly CommandRegistration[]): Command {
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
  for (const register of registrations) register(program, ctx);
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
  const registrations = await commandsFor(argv, commands);
  try {
    await buildProgram(ctx, registrations).parseAsync([...argv], { from: 'user' });
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
