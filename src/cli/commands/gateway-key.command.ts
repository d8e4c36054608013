import {
  DEFAULT_ROTATION_OVERLAP_SECONDS,
  loadGatewayKeyRing,
  rotateGatewayKey,
} from '../../keys/gateway-key.js';
import { loadConfig } from '../../config/config.js';
import type { CommandRegistration } from '../context.js';
import { refuse } from './keys.command.js';

/**
 * `convenant gateway-key rotate`: a new signing key for the gateway in `$CONVENANT_DATA_DIR/keys`
 * (in the compose file: the shared keys volume), the old one retired with an overlap during which
 * its access tokens still pass; `convenant gateway-key jwks` prints the published key set.
 * docs/operations.md describes the whole rotation, restarts included.
 */
export const gatewayKeyCommand: CommandRegistration = (program, ctx) => {
  const command = program.command('gateway-key').description("manage the gateway's own signing key");
  command
    .command('rotate')
    .description('make a new signing key; the old one keeps verifying its tokens during the overlap')
    .option(
      '--overlap <seconds>',
      'how long access tokens under the old key stay valid (at least ACCESS_TOKEN_TTL_SECONDS)',
      String(DEFAULT_ROTATION_OVERLAP_SECONDS),
    )
    .action(async (opts: { overlap: string }) => {
      const config = loadConfig(ctx.env);
      const overlap = /^\d+$/.test(opts.overlap) ? Number(opts.overlap) : Number.NaN;
      if (!(overlap >= config.accessTokenTtlSeconds)) {
        refuse(
          ctx,
          `--overlap must be whole seconds, at least ACCESS_TOKEN_TTL_SECONDS (${config.accessTokenTtlSeconds}), so tokens issued just before the rotation stay valid until they expire.`,
        );
        return;
      }
      const rotation = await rotateGatewayKey(config.keysDir, { overlapSeconds: overlap });
      ctx.out(
        `retired  ${rotation.previousKid} (its tokens pass until ${rotation.acceptOldTokensUntil.toISOString()})`,
      );
      ctx.out(`current  ${rotation.currentKid}`);
      ctx.out(
        'Restart every gateway instance, one at a time, before the overlap ends: each signs with the new key from its restart.',
      );
    });
  command
    .command('jwks')
    .description('print the public key set GET /v1/audit/keys publishes (current key first)')
    .action(async () => {
      const config = loadConfig(ctx.env);
      ctx.out(JSON.stringify({ keys: (await loadGatewayKeyRing(config.keysDir)).publicJwks() }, null, 2));
    });
};
