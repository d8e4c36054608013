import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Reading a convenant folder as it was at a git revision, for `convenant diff --git A..B`. */

export class GitSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitSourceError';
  }
}

function git(cwd: string, args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new GitSourceError(`git ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`);
  }
}

/** `A..B` → [A, B]; `A` → [A, undefined] (compare with the working folder). */
export function parseRange(range: string): [string, string | undefined] {
  const m = /^([^.\s][^\s]*?)(?:\.\.([^.\s][^\s]*))?$/.exec(range);
  if (!m?.[1]) throw new GitSourceError(`'${range}' is not a revision range; write e.g. main..HEAD.`);
  return [m[1], m[2]];
}

export interface FolderAtRevision {
  /** The folder as named in diagnostics: its path relative to the repository root. */
  dir: string;
  files: { path: string; text: string }[];
}

/**
 * The `*.yaml`/`*.yml` files of `dir` at `revision`, read with `git ls-tree` and `git show`, never
 * checked out: the working tree stays as it is. File paths read `<revision>:<path>`.
 */
export function folderAtRevision(dir: string, revision: string): FolderAtRevision {
  const absolute = path.resolve(dir);
  let probe = absolute;
  while (!existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  const top = git(probe, ['rev-parse', '--show-toplevel']).trim();
  const rel = path.relative(top, absolute).split(path.sep).join('/');
  git(top, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
  const names = git(top, ['ls-tree', '--name-only', revision, '--', `${rel}/`])
    .split('\n')
    .filter((n) => /\.ya?ml$/i.test(n))
    .sort();
  const files = names.map((name) => ({
    path: `${revision}:${name}`,
    text: git(top, ['show', `${revision}:${name}`]),
  }));
  return { dir: rel, files };
}
