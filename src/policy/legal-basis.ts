import type { Convenant, LegalBasis, Partner, Sensitivity } from './model.js';

/**
 * Who may rely on a legal basis. A sector law binds the organisations it addresses (the Wet
 * gebruik burgerservicenummer in de zorg binds care providers, the Jeugdwet youth care and
 * youth protection), so a basis may name the partner kinds it applies to (`applies_to`); one
 * without that list applies to every partner. The validator and the gateway both decide through
 * these functions, so `convenant validate` and a request can never disagree.
 */

export function basisAppliesTo(basis: LegalBasis, partnerKind: string): boolean {
  return basis.appliesTo === undefined || basis.appliesTo.includes(partnerKind);
}

/** The purpose's legal bases (known ids only) that this partner may rely on. */
export function basesForPartner(convenant: Convenant, partner: Partner, purposeId: string): LegalBasis[] {
  const purpose = convenant.purposes.find((p) => p.id === purposeId);
  if (!purpose) return [];
  return purpose.legalBases.flatMap((id) => {
    const basis = convenant.legalBases.find((b) => b.id === id);
    return basis && basisAppliesTo(basis, partner.kind) ? [basis] : [];
  });
}

/**
 * The first basis of the purpose that permits `sensitivity` and applies to the partner, or
 * undefined. The verwijsindex asks this for `bsn` before it hashes a BSN (UAVG art. 46: a BSN
 * is used only where a law allows it).
 */
export function basisPermitting(
  convenant: Convenant,
  partner: Partner,
  purposeId: string,
  sensitivity: Sensitivity,
): LegalBasis | undefined {
  return basesForPartner(convenant, partner, purposeId).find((b) => b.permits.includes(sensitivity));
}
