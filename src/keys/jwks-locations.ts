import path from 'node:path';
import type { Convenant, Partner } from '../policy/model.js';

/**
 * Where a partner's JWKS file may be, in order: the path the convenant names (relative to the
 * convenant folder), then `<keysDir>/<basename>`, where `convenant keys --dev` writes demo keys.
 * The second place is not consulted in production: there the convenant folder, which jurists and
 * operators review, is the only source of trust, and a demo key left in a data folder must never
 * be able to verify anything.
 */
export function localJwksCandidates(
  convenant: Pick<Convenant, 'dir'>,
  partner: Partner,
  keysDir: string,
  options: { allowDataDir: boolean },
): string[] {
  const file = partner.keys.jwksFile;
  if (file === undefined) return [];
  const inConvenant = path.resolve(convenant.dir, file);
  return options.allowDataDir ? [inConvenant, path.join(keysDir, path.basename(file))] : [inConvenant];
}
