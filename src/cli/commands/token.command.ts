import { AccessTokenIssuer, tokenEndpoint } from '../../auth/access-token.js';
import { ensureDevKeys, readDevPrivateKey } from '../../keys/dev-keys.js';
import { loadGatewayKey } from '../../keys/gateway-key.js';
import { PROFESSIONAL_PATTERN, purposeRefusal } from '../../auth/token-rules.js';
import { firstOfficerPartner, OFFICER_PURPOSE } from '../../audit/officer.js';
import { loadConfig } from '../../config/config.js';
import { findRunningGateway, type GatewayLookup } from '../../ops/gateway-file.js';
import type { CliContext, CommandRegistration } from '../context.js';
import { DIR_OPTION_HELP } from '../policy-source.js';
import { cliSetup, refuse } from './keys.command.js';

/**
 * `convenant token`: a ready access token for curl during development (`TOKEN=$(npx convenant
 * token …)`), signed with the gateway key in the data folder after the same partner and purpose
 * checks as POST /v1/oauth/token. With --assertion, a client assertion signed with the partner's
 * demo key instead, to try the token endpoint itself. Refused in production: a token made here
 * skips the partner's signature, and it is not in the access log (its use is). With --officer, a
 * privacy officer's token: the first partner the convenant makes an officer, purpose toezicht.
 *
 * A token is only accepted by the gateway it names (issuer and audience are its PUBLIC_URL), so
 * the command looks for that gateway: --gateway, else PUBLIC_URL/PORT/HOST as set here, else the
 * gateway.json a running gateway leaves in the data folder (which also names its convenant
 * folder). When none of these says, it says so on stderr and which settings to give.
 */
export const tokenCommand: CommandRegistration = (program, ctx) => {
  program
    .command('token')
    .description('print an access token for a partner, purpose and professional (development only)')
    .option('--partner <partner>', 'partner id (required unless --officer)')
    .option('--purpose <purpose>', 'purpose id (required unless --officer)')
    .option(
      '--professional <id>',
      'opaque id of the acting professional (default with --officer: <partner>-officer-1)',
    )
    .option('--officer', 'a privacy officer: the first partner of kind toezicht, purpose toezicht')
    .option('--assertion', 'print a client assertion for POST /v1/oauth/token instead of an access token')
    .option('--gateway <url>', "the gateway's public URL (default: PUBLIC_URL, PORT or the running gateway)")
    .option('--dir <dir>', DIR_OPTION_HELP)
    .action(
      async (opts: {
        partner?: string;
        purpose?: string;
        professional?: string;
        officer?: boolean;
        assertion?: boolean;
        gateway?: string;
        dir?: string;
      }) => {
        const running = await findRunningGateway(loadConfig(ctx.env).dataDir);
        const dir =
          opts.dir ??
          (ctx.env.CONVENANT_POLICY_DIR === undefined && 'found' in running
            ? running.found.policyDir
            : undefined);
        const setup = cliSetup(ctx, dir);
        if (!setup) return;
        const publicUrl = gatewayUrl(ctx, opts.gateway, setup.config.publicUrl, running);
        if (publicUrl === undefined) return;
        const config = { ...setup.config, publicUrl };
        const { compiled } = setup;
        if (config.env === 'production') {
          refuse(ctx, 'convenant token is a development tool and refuses to run with NODE_ENV=production.');
          return;
        }
        if (opts.officer === true) {
          if (opts.partner !== undefined || opts.purpose !== undefined) {
            refuse(
              ctx,
              '--officer chooses the partner and purpose itself; leave out --partner and --purpose.',
            );
            return;
          }
          const officer = firstOfficerPartner(compiled.convenant);
          if (!officer) {
            refuse(ctx, 'The convenant has no partner of kind toezicht registered for purpose toezicht.');
            return;
          }
          opts.partner = officer.id;
          opts.purpose = OFFICER_PURPOSE;
          opts.professional ??= `${officer.id}-officer-1`;
        }
        if (opts.partner === undefined || opts.purpose === undefined || opts.professional === undefined) {
          refuse(ctx, 'Give --partner, --purpose and --professional, or --officer.');
          return;
        }
        if (!PROFESSIONAL_PATTERN.test(opts.professional)) {
          refuse(ctx, '--professional must be an opaque id of 1 to 64 characters from A-Z a-z 0-9 . _ @ -.');
          return;
        }
        const refusal = purposeRefusal(compiled, opts.partner, opts.purpose);
        if (refusal) {
          refuse(ctx, refusal.message);
          return;
        }
        const who = { partner: opts.partner, professional: opts.professional, purpose: opts.purpose };
        // Same as a demo gateway start: partners whose keys exist nowhere get demo keys.
        await ensureDevKeys(compiled.convenant, config.keysDir);
        if (opts.assertion === true) {
          const partner = compiled.partner(opts.partner);
          if (partner.keys.jwksFile === undefined) {
            refuse(
              ctx,
              `Partner '${partner.id}' publishes its own keys (jwks_uri); only it can sign its assertions.`,
            );
            return;
          }
          let privateJwk;
          try {
            privateJwk = await readDevPrivateKey(partner.id, config.keysDir);
          } catch {
            refuse(
              ctx,
              `There is no demo private key for '${partner.id}' in ${config.keysDir}: its public keys come from the convenant folder.`,
            );
            return;
          }
          // Loaded here only: the verifying side of this module brings Nest's error classes along.
          const { signClientAssertion } = await import('../../auth/client-assertion.js');
          ctx.out(await signClientAssertion(privateJwk, { ...who, audience: tokenEndpoint(config) }));
          return;
        }
        const issued = await new AccessTokenIssuer(await loadGatewayKey(config.keysDir), config).issue(who);
        ctx.out(issued.token);
      },
    );
};

/**
 * The public URL the token is for. An explicit --gateway or PUBLIC_URL/PORT/HOST wins; then a
 * running gateway's own note; else the default, with a line on stderr saying what to set.
 */
function gatewayUrl(
  ctx: CliContext,
  option: string | undefined,
  configured: string,
  running: GatewayLookup,
): string | undefined {
  if (option !== undefined) {
    let url: URL;
    try {
      url = new URL(option);
    } catch {
      refuse(
        ctx,
        `--gateway must be the gateway's public URL, such as http://127.0.0.1:3000; got '${option}'.`,
      );
      return undefined;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      refuse(ctx, `--gateway must be an http or https URL; got '${option}'.`);
      return undefined;
    }
    // The public URL is the gateway's root: `…/v1` (the API's prefix) means the same gateway.
    return url.href.replace(/\/+$/, '').replace(/\/v1$/, '');
  }
  if (['PUBLIC_URL', 'PORT', 'HOST'].some((name) => ctx.env[name] !== undefined)) return configured;
  if ('found' in running) return running.found.publicUrl;
  const why =
    'stale' in running
      ? `the gateway named in ${running.file} (process ${running.stale.pid}) is no longer running`
      : `no running gateway has left its address in ${running.missing}`;
  ctx.err(
    `note: ${why}; this token is for ${configured} and only a gateway with that PUBLIC_URL accepts it. ` +
      'For another gateway set PUBLIC_URL (or PORT) as it has them, or pass --gateway <url>.',
  );
  return configured;
}
