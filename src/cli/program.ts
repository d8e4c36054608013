import { Command, CommanderError, Help } from 'commander';
import { createContext, wantsColour, type CliContext, type CommandRegistration } from './context.js';

/**
 * A command by name, how to load its registration (only when it is the one invoked), and its line
 * in `convenant --help` (the term and description its registration gives; program.spec checks
 * that they agree), so listing the commands loads none of them.
 */
export interface LazyCommand {
  readonly name: string;
  readonly load: () => Promise<CommandRegistration>;
  readonly help: readonly [term: string, description: string];
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
  {
    name: 'validate',
    load: async () => (await import('./commands/validate.command.js')).validateCommand,
    help: [
      'validate [options] [dir]',
      'check a convenant folder and list every problem with file:line:column',
    ],
  },
  {
    name: 'explain',
    load: async () => (await import('./commands/explain.command.js')).explainCommand,
    help: [
      'explain [options] [dir]',
      'show, field by field, what a partner may read and write under a purpose, and why',
    ],
  },
  {
    name: 'test',
    load: async () => (await import('./commands/test.command.js')).testCommand,
    help: ['test [options] [dir]', "run the convenant's inline tests against the compiled policy"],
  },
  {
    name: 'compile',
    load: async () => (await import('./commands/compile.command.js')).compileCommand,
    help: ['compile [options] [dir]', 'print the CASL rules the gateway enforces for a partner and purpose'],
  },
  {
    name: 'db',
    load: async () => (await import('./commands/db.command.js')).dbCommand,
    help: ['db', 'apply, undo, inspect or draft database migrations'],
  },
  {
    name: 'keys',
    load: async () => (await import('./commands/keys.command.js')).keysCommand,
    help: [
      'keys [options]',
      'make demo key pairs for every partner (development only; partners bring their own keys)',
    ],
  },
  {
    name: 'token',
    load: async () => (await import('./commands/token.command.js')).tokenCommand,
    help: [
      'token [options]',
      'print an access token for a partner, purpose and professional (development only)',
    ],
  },
  {
    name: 'audit',
    load: async () => (await import('./commands/audit.command.js')).auditCommand,
    help: ['audit', 'check the integrity of the access log'],
  },
  {
    name: 'retention',
    load: async () => (await import('./commands/retention.command.js')).retentionCommand,
    help: ['retention', 'remove data whose retention period has passed'],
  },
  {
    name: 'diff',
    load: async () => (await import('./commands/diff.command.js')).diffCommand,
    help: [
      'diff [options] [old] [new]',
      'what a change to the convenant means: per partner and purpose the fields newly reachable or taken away (health and criminal data first), and changes to partners, purposes, legal bases, retention. Exit 0: not widened (or no --fail-on-widen); 1: widened with --fail-on-widen; 2: usage or invalid convenant.',
    ],
  },
  {
    name: 'matrix',
    load: async () => (await import('./commands/matrix.command.js')).matrixCommand,
    help: [
      'matrix [options] [dir]',
      'partner × purpose × catalogue section: read/write all, some or none, and what a doorbraak opens',
    ],
  },
  {
    name: 'render',
    load: async () => (await import('./commands/render.command.js')).renderCommand,
    help: [
      'render [options] [dir]',
      'the whole convenant as a readable Dutch document for the signing parties (printable HTML, Markdown, or PDF where a Chromium is available)',
    ],
  },
  {
    name: 'gateway-key',
    load: async () => (await import('./commands/gateway-key.command.js')).gatewayKeyCommand,
    help: ['gateway-key', "manage the gateway's own signing key"],
  },
  {
    name: 'partner-key',
    load: async () => (await import('./commands/partner-key.command.js')).partnerKeyCommand,
    help: [
      'partner-key',
      "a partner's own key pair and client assertions (run by the partner, not the gateway)",
    ],
  },
  {
    name: 'init',
    load: async () => (await import('./commands/init.command.js')).initCommand,
    help: [
      'init [options] <dir>',
      'start a new convenant in a new folder: a small, valid example that explains itself',
    ],
  },
];

/**
 * The registrations needed for `argv`: the named command alone (also as `help <command>`), else
 * a line per command for the help listing, and for commander's "unknown command" with the
 * closest name, none of them loaded.
 */
export async function commandsFor(
  argv: readonly string[],
  commands: readonly LazyCommand[] = COMMANDS,
): Promise<CommandRegistration[]> {
  const named = commands.find((c) => c.name === (argv[0] === 'help' ? argv[1] : argv[0]));
  if (named) return [await named.load()];
  return commands.map(({ name, help: [term, description] }) => (program) => {
    listedTerms.set(program.command(name).description(description), term);
  });
}

/** The help terms of the commands registered for the listing only (see commandsFor). */
const listedTerms = new WeakMap<Command, string>();

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
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({
      subcommandTerm: (command) =>
        listedTerms.get(command) ?? Help.prototype.subcommandTerm.call(new Help(), command),
    });
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
