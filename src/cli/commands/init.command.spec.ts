import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { run } from '../program.js';

describe('convenant init', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'convenant-init-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('scaffolds a convenant that validates and passes its own tests', async () => {
    const dir = path.join(root, 'regio-noord');
    const init = await run(['init', dir]);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`npx convenant validate ${dir}`);

    const validate = await run(['validate', dir]);
    expect(validate.stdout).toContain('convenant regio-noord');
    expect(validate.stdout).toContain('is valid (0 errors, 0 warnings)');
    expect(validate.code).toBe(0);
    const test = await run(['test', dir]);
    expect(test.stdout).toMatch(/(\d+) passed, 0 failed/);
    expect(Number(/(\d+) passed/.exec(test.stdout)![1])).toBeGreaterThanOrEqual(5);
    expect(test.code).toBe(0);
  });

  it('teaches by its comments: every part explains what its keys mean', async () => {
    const dir = path.join(root, 'regio-oost');
    await run(['init', dir, '--title', 'Convenant Veiligheidshuis Oost']);
    const text = async (name: string) => readFile(path.join(dir, name), 'utf8');
    const convenant = await text('00-convenant.yaml');
    expect(parse(convenant)).toMatchObject({
      convenant: 'regio-oost',
      title: 'Convenant Veiligheidshuis Oost',
    });
    expect(convenant).toMatch(/^# .*permits/m);
    expect(convenant).toMatch(/^# .*`applies_to`/m);
    expect(convenant).toMatch(/^# .*`exception`/m);
    // The health basis names its exception and whom it binds, as `validate` requires of it.
    expect(parse(convenant)).toMatchObject({
      legal_bases: {
        'avg-9-2-h-uavg-30-3': {
          exception: expect.stringMatching(/^AVG art\. 9 lid 2 sub h/),
          applies_to: ['zorg'],
        },
      },
    });
    expect(convenant).toContain('npx convenant validate');
    expect(await text('10-partners.yaml')).toMatch(/^# .*`kind`/m);
    expect(await text('20-purposes.yaml')).toMatch(/^# .*emergency_access/m);
    const catalogue = await text('30-catalogue.yaml');
    for (const key of ['sensitivity', 'level', 'type'])
      expect(catalogue).toMatch(new RegExp(`^#\\s+${key}\\s`, 'm'));
    const rules = await text('40-rules.yaml');
    expect(rules).toMatch(/^# .*`cannot`.*gaat altijd voor/m);
    expect(rules).toMatch(/^# .*participant: any/m);
    expect(await text('90-tests.yaml')).toMatch(/^# .*deny_write/m);
  });

  it('points editors at the nearest schema, or writes a copy beside the files', async () => {
    await writeFile(path.join(root, 'convenant.schema.json'), '{}');
    const inside = path.join(root, 'regio-west');
    await run(['init', inside]);
    expect(await readFile(path.join(inside, '10-partners.yaml'), 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=\.\.\/convenant\.schema\.json$/m,
    );

    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'convenant-init-alone-'));
    try {
      const dir = path.join(elsewhere, 'regio-zuid');
      await run(['init', dir]);
      expect(await readdir(dir)).toContain('convenant.schema.json');
      expect(await readFile(path.join(dir, '40-rules.yaml'), 'utf8')).toContain(
        '$schema=./convenant.schema.json',
      );
      expect((await run(['validate', dir])).code).toBe(0);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('refuses a folder that holds files, and an id that is not lower case with dashes', async () => {
    const full = path.join(root, 'vol');
    await mkdir(full);
    await writeFile(path.join(full, 'notes.txt'), 'x');
    const refused = await run(['init', full]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already holds files');
    expect(await readdir(full)).toEqual(['notes.txt']);

    const badId = await run(['init', path.join(root, 'Regio_Zuid')]);
    expect(badId.code).toBe(1);
    expect(badId.stderr).toContain('give one with --id');
    expect((await run(['init', path.join(root, 'Regio_Zuid'), '--id', 'regio-zuid'])).code).toBe(0);
  });
});
