import path from 'node:path';
import { generateDevKeys } from '../../keys/dev-keys.js';
import { loadConfig } from '../../config/config.js';
import { loadEnforceable, PolicyInvalidError } from '../../kernel/enforceable.js';
import type { CliContext, CommandRegistration } from '../context.js';
import { DIR_OPTION_HELP } from '../policy-source.js';

/**
 * `convenant keys --dev`: demo key pairs for every partner of the convenant, in the data folder
 * (`$CONVENANT_DATA_DIR/keys`). Real partner keys are never made here: a partner generates its own
 * pair and hands over only the public JWKS, which goes into the convenant folder.
 */
export const keysCommand: CommandRegistration = (program, ctx) => {
  program
    .command('keys')
    .description('make demo key pairs for every partner (development only; partners bring their own keys)')
    .option('--dev', 'write demo ES256 key pairs into the data folder')
    .option('--force', 'replace demo keys that already exist')
    .option('--dir <dir>', DIR_OPTION_HELP)
    .action(async (opts: { dev?: boolean; force?: boolean; dir?: string }) => {
      if (opts.dev !== true) {
        refuse(
          ctx,
          'Only demo keys can be made here: run `convenant keys --dev`. A partner makes its own key pair.',
        );
        return;
      }
      const setup = cliSetup(ctx, opts.dir);
      if (!setup) return;
      if (setup.config.env === 'production') {
        refuse(ctx, 'Demo keys are never made in production (NODE_ENV=production).');
        return;
      }
      const written = await generateDevKeys(setup.compiled.convenant.partners, setup.config.keysDir, {
        force: opts.force === true,
      });
      for (const k of written) {
        const files = `${relative(k.publicFile)}, ${relative(k.privateFile)}`;
        ctx.out(`${k.created ? 'wrote' : 'kept '} ${k.partner.padEnd(14)} ${files}`);
      }
      const skipped = setup.compiled.convenant.partners.filter((p) => p.keys.jwksFile === undefined);
      for (const p of skipped) ctx.out(`skip  ${p.id.padEnd(14)} publishes its own keys (jwks_uri)`);
      if (written.some((k) => !k.created))
        ctx.out(ctx.style('dim', 'Existing pairs were kept; --force replaces them.'));
    });
};

/** Configuration and the enforceable convenant, as the gateway would load them; undefined after a refusal. */
export function cliSetup(ctx: CliContext, dir: string | undefined) {
  const config = loadConfig(dir ? { ...ctx.env, CONVENANT_POLICY_DIR: dir } : ctx.env);
  try {
    return { config, compiled: loadEnforceable(config.policyDir) };
  } catch (error) {
    if (!(error instanceof PolicyInvalidError)) throw error;
    refuse(ctx, error.message);
    return undefined;
  }
}

export function refuse(ctx: CliContext, message: string): void {
  ctx.err(ctx.style(['bold', 'red'], message));
  ctx.exitCode = 1;
}

/** Short paths under the working directory, absolute ones elsewhere. */
function relative(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}
