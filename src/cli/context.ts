import { styleText } from 'node:util';
import type { Command } from 'commander';

/** What a command may touch: its output streams and the environment. Nothing else is global. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes one line to stdout. */
  out(line?: string): void;
  /** Writes one line to stderr. */
  err(line?: string): void;
  /** Raw writers, for commander's own help and error output. */
  readonly writeOut: (text: string) => void;
  readonly writeErr: (text: string) => void;
  readonly style: Styler;
  /** Set by a command; `run` returns it. */
  exitCode: number;
}

/** Adds one command (or a group of subcommands) to the program. New commands (db, keys, token) plug in here. */
export type CommandRegistration = (program: Command, ctx: CliContext) => void;

type StyleFormat = Parameters<typeof styleText>[0];
export type Styler = (format: StyleFormat, text: string) => string;

export const plain: Styler = (_format, text) => text;

/**
 * The decision whether to colour is ours (TTY and no NO_COLOR, https://no-color.org), so
 * styleText must not second-guess it against process.stdout, which is not the stream in tests.
 */
export const coloured: Styler = (format, text) => styleText(format, text, { validateStream: false });

export function wantsColour(isTTY: boolean | undefined, env: CliContext['env']): boolean {
  return isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

export function createContext(options: {
  env: CliContext['env'];
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
  colour: boolean;
}): CliContext {
  const { env, writeOut, writeErr } = options;
  return {
    env,
    writeOut,
    writeErr,
    out: (line = '') => writeOut(`${line}\n`),
    err: (line = '') => writeErr(`${line}\n`),
    style: options.colour ? coloured : plain,
    exitCode: 0,
  };
}
