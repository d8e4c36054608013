import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The folder rules of .dependency-cruiser.cjs (run by `npm run lint` over src/) fire on the
 * shapes they exist for: each fixture under test/fixtures/dependency-rules is a small src/ tree
 * that breaks one rule, checked with the repository's own configuration.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const depcruise = path.join(root, 'node_modules', '.bin', 'depcruise');
const config = path.join(root, '.dependency-cruiser.cjs');

async function cruise(fixture: string): Promise<{ code: number; output: string }> {
  const cwd = path.join(root, 'test', 'fixtures', 'dependency-rules', fixture);
  try {
    const { stdout } = await promisify(execFile)(depcruise, ['src', '--config', config], { cwd });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('dependency rules', () => {
  it('fails on a cycle between top-level folders when no module is in a cycle', async () => {
    const { code, output } = await cruise('folder-cycle');
    expect(code).not.toBe(0);
    expect(output).toMatch(/error no-folder-cycle: src\/feature-a →\s+src\/feature-b →\s+src\/feature-a/);
    expect(output).not.toMatch(/no-circular|no-deep-import/);
    // The kernel folder is imported but imports nothing back, so it is in no cycle.
    expect(output).not.toMatch(/no-folder-cycle: src\/kernel/);
  });

  it("fails on an import of another folder's sub-folder, which the folder graph would miss", async () => {
    const { code, output } = await cruise('deep-import');
    expect(code).not.toBe(0);
    expect(output).toContain(
      'error no-deep-import-across-folders: src/feature-b/second.ts → src/feature-a/sub/leaf.ts',
    );
    expect(output).not.toMatch(/no-circular/);
  });

  it('fails on an import from src/policy into any other folder of src/', async () => {
    const { code, output } = await cruise('policy-import');
    expect(code).not.toBe(0);
    expect(output).toContain(
      'error policy-depends-on-nothing-else: src/policy/engine.ts → src/kernel/registry.ts',
    );
  });
});
