import type { JWK } from 'jose';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROFESSIONAL_PATTERN, signClientAssertion } from '../../auth/client-assertion.js';
import { newSigningPair } from '../../keys/dev-keys.js';
import type { CommandRegistration } from '../context.js';
import { refuse } from './keys.command.js';

/**
 * For a partner, on the partner's own machine (docs/operations.md, onboarding): `convenant
 * partner-key new <partner>` makes an ES256 pair, of which only `<partner>.jwks.json` is handed
 * over and registered in the convenant folder; `convenant partner-key assertion` signs a client
 * assertion with the private half for POST /v1/oauth/token. Both run in production too: the
 * gateway never sees the private key, unlike `convenant keys --dev` and `convenant token`.
 */
export const partnerKeyCommand: CommandRegistration = (program, ctx) => {
  const command = program
    .command('partner-key')
    .description("a partner's own key pair and client assertions (run by the partner, not the gateway)");
  command
    .command('new <partner>')
    .description(
      'make an ES256 key pair: <partner>.private.jwk.json (keep it) and <partner>.jwks.json (hand it over)',
    )
    .option('--out <dir>', 'folder to write both files into', '.')
    .action(async (partner: string, opts: { out: string }) => {
      if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(partner)) {
        refuse(ctx, 'The partner id is lower-case letters, digits and dashes, as in the convenant.');
        return;
      }
      const { privateJwk, publicJwk } = await newSigningPair();
      await mkdir(opts.out, { recursive: true, mode: 0o700 });
      const privateFile = path.join(opts.out, `${partner}.private.jwk.json`);
      const publicFile = path.join(opts.out, `${partner}.jwks.json`);
      try {
        // Never over an existing key: losing a private key that is registered locks the partner out.
        await writeFile(privateFile, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        refuse(ctx, `${privateFile} exists already; choose another --out folder.`);
        return;
      }
      await writeFile(publicFile, `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`, { mode: 0o644 });
      ctx.out(`private  ${privateFile} (keep it; never send it)`);
      ctx.out(
        `public   ${publicFile} (kid ${String(publicJwk.kid)}): hand it over for keys/${partner}.jwks.json`,
      );
    });
  command
    .command('assertion')
    .description('print a client assertion signed with a private key file, for POST /v1/oauth/token')
    .requiredOption('--key <file>', 'the partner private key (<partner>.private.jwk.json)')
    .requiredOption('--partner <partner>', 'the partner id the key is registered for')
    .requiredOption('--professional <id>', 'opaque id of the acting professional')
    .requiredOption('--audience <url>', "the gateway's token endpoint, $PUBLIC_URL/v1/oauth/token")
    .action(async (opts: { key: string; partner: string; professional: string; audience: string }) => {
      if (!PROFESSIONAL_PATTERN.test(opts.professional)) {
        refuse(ctx, '--professional must be an opaque id of 1 to 64 characters from A-Z a-z 0-9 . _ @ -.');
        return;
      }
      const privateJwk = JSON.parse(await readFile(opts.key, 'utf8')) as JWK;
      ctx.out(
        await signClientAssertion(privateJwk, {
          partner: opts.partner,
          professional: opts.professional,
          audience: opts.audience,
        }),
      );
    });
};
