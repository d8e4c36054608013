import { spawnSync } from 'node:child_process';

/**
 * The real process, built (dist/, as `npm test` builds it first): output into a pipe whose
 * reader stops early. Node reports that as an asynchronous EPIPE 'error' event, which, unhandled,
 * killed the command with a stack trace.
 */
describe('convenant … | head -1', () => {
  it.each([
    ['explain', '--partner', 'wijkteam', '--purpose', 'uitvoering-plan', '--json'],
    ['matrix', '--json'],
  ])('%s: prints the first line, then ends quietly with its own exit code', (...args) => {
    const result = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; node bin/convenant.js ${args.join(' ')} | head -1; echo "exit \${PIPESTATUS[0]}"`,
      ],
      { encoding: 'utf8' },
    );
    expect(result.stdout).toBe('{\nexit 0\n');
    expect(result.stderr).toBe('');
  });
});
