import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import schema from '../../../policies/convenant.schema.json' with { type: 'json' };
import type { CommandRegistration } from '../context.js';
import { refuse } from './keys.command.js';
import { initFiles } from './init.templates.js';

const SCHEMA_FILE = 'convenant.schema.json';
const CONVENANT_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * `convenant init <dir>`: the start of a new region's convenant. Writes a small convenant that
 * validates and passes its own tests, whose comments explain each part, so a jurist learns the
 * format by editing it. Never writes into a folder that already holds files.
 */
export const initCommand: CommandRegistration = (program, ctx) => {
  program
    .command('init')
    .description('start a new convenant in a new folder: a small, valid example that explains itself')
    .argument('<dir>', 'the new convenant folder (must not exist, or be empty)')
    .option('--id <id>', 'the convenant id, lower case and dashes (default: the folder name)')
    .option('--title <title>', 'the title (default: "Convenant gegevensdeling <id>")')
    .action(async (dir: string, opts: { id?: string; title?: string }) => {
      const id = opts.id ?? path.basename(path.resolve(dir));
      if (!CONVENANT_ID.test(id)) {
        refuse(
          ctx,
          `The convenant id '${id}' must be lower-case letters and digits in parts joined by dashes, such as vh-twente; give one with --id.`,
        );
        return;
      }
      if (existsSync(dir) && (await readdir(dir)).length > 0) {
        refuse(ctx, `${dir} already holds files; convenant init only starts a new, empty folder.`);
        return;
      }
      await mkdir(dir, { recursive: true });
      const schemaPath = await schemaFor(dir);
      const files = initFiles({
        id,
        title: opts.title ?? `Convenant gegevensdeling ${id}`,
        schema: schemaPath,
        today: new Date().toISOString().slice(0, 10),
      });
      for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
      ctx.out(`Wrote a new convenant '${id}' in ${dir}: ${Object.keys(files).join(', ')}.`);
      ctx.out('Next: edit the files (each explains itself), then');
      ctx.out(`  npx convenant validate ${dir}`);
      ctx.out(`  npx convenant test ${dir}`);
      ctx.out(`  CONVENANT_POLICY_DIR=${dir} npm start`);
    });
};

/**
 * Where the editor finds the JSON Schema: the nearest convenant.schema.json in the new folder's
 * parents (policies/ in this repository), else a copy written beside the files.
 */
async function schemaFor(dir: string): Promise<string> {
  const absolute = path.resolve(dir);
  for (let parent = path.dirname(absolute); ; parent = path.dirname(parent)) {
    const candidate = path.join(parent, SCHEMA_FILE);
    if (existsSync(candidate)) return path.relative(absolute, candidate).split(path.sep).join('/');
    if (path.dirname(parent) === parent) break;
  }
  await writeFile(path.join(absolute, SCHEMA_FILE), `${JSON.stringify(schema, null, 2)}\n`);
  return `./${SCHEMA_FILE}`;
}
