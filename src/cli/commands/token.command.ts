import { AccessTokenIssuer, tokenEndpoint } from '../../auth/access-token.js';
import { AuthRefusal } from '../../auth/auth.errors.js';
import { PROFESSIONAL_PATTERN, signClientAssertion } from '../../auth/client-assertion.js';
import { ensureDevKeys, readDevPrivateKey } from '../../auth/dev-keys.js';
import { loadGatewayKey } from '../../auth/gateway-key.js';
import { checkPurpose } from '../../auth/token.service.js';
import { firstOfficerPartner, OFFICER_PURPOSE } from '../../audit/officer.js';
import type { CommandRegistration } from '../context.js';
import { DIR_OPTION_HELP } from '../policy-source.js';
import { cliSetup, refuse } from './keys.command.js';

/**
 * `convenant token`: a ready access token for curl during development (`TOKEN=$(npx convenant
 * token …)`), signed with the gateway key in the data folder after the same partner and purpose
 * checks as POST /v1/oauth/token. With --assertion, a client assertion signed with the partner's
 * demo key instead, to try the token endpoint itself. Refused in production: a token made here
 * skips the partner's signature, and it is not in the access log (its use is). With --officer, a
 * privacy officer's token: the first partner the convenant makes an officer, purpose toezicht.
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
    .option('--dir <dir>', DIR_OPTION_HELP)
    .action(
      async (opts: {
        partner?: string;
        purpose?: string;
        professional?: string;
        officer?: boolean;
        assertion?: boolean;
        dir?: string;
      }) => {
        const setup = cliSetup(ctx, opts.dir);
        if (!setup) return;
        const { config, compiled } = setup;
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
        try {
          checkPurpose(compiled, opts.partner, opts.purpose);
        } catch (error) {
          if (!(error instanceof AuthRefusal)) throw error;
          refuse(ctx, error.message);
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
          ctx.out(await signClientAssertion(privateJwk, { ...who, audience: tokenEndpoint(config) }));
          return;
        }
        const issued = await new AccessTokenIssuer(await loadGatewayKey(config.keysDir), config).issue(who);
        ctx.out(issued.token);
      },
    );
};
