import type { CompiledConvenant } from '../policy/compile.js';

/**
 * The token rules that need neither Nest nor a database, shared by the token endpoint
 * (token.service.ts, client-assertion.ts) and `convenant token`, which must answer in a fraction of
 * a second and so loads only these, jose and the convenant.
 */

/** Opaque id of the acting professional: never a name or BSN, bounded so it fits every log. */
export const PROFESSIONAL_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;

/** At most 64 characters of untrusted text, for a sentence or a log column. */
export function bounded(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Why the convenant refuses a (partner, purpose) pair: an unknown partner, or a purpose it may not use. */
export interface PurposeRefusal {
  kind: 'unknown-partner' | 'purpose-refused';
  message: string;
}

/**
 * The convenant's word on a (partner, purpose) pair: the purpose must exist and the partner must be
 * registered for it. Undefined when the pair may act.
 */
export function purposeRefusal(
  compiled: CompiledConvenant,
  partnerId: string,
  purposeId: string,
): PurposeRefusal | undefined {
  const partner = compiled.convenant.partners.find((p) => p.id === partnerId);
  if (!partner)
    return { kind: 'unknown-partner', message: `'${bounded(partnerId)}' is not a partner in the convenant.` };
  if (!compiled.convenant.purposes.some((p) => p.id === purposeId)) {
    return { kind: 'purpose-refused', message: `Purpose '${bounded(purposeId)}' is not in the convenant.` };
  }
  if (!partner.purposes.includes(purposeId)) {
    return {
      kind: 'purpose-refused',
      message: `Partner '${partner.id}' is not registered for purpose '${purposeId}' in the convenant; its purposes are ${partner.purposes.join(', ')}.`,
    };
  }
  return undefined;
}
