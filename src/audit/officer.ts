import type { Convenant, Partner } from '../policy/index.js';

/**
 * Who counts as a privacy officer is decided by the convenant, never by a partner id: a partner
 * of kind `toezicht` that the convenant registers for purpose `toezicht`.
 */
export const OFFICER_KIND = 'toezicht';
export const OFFICER_PURPOSE = 'toezicht';

export function isOfficer(convenant: Convenant, partnerId: string, purposeId: string): boolean {
  if (purposeId !== OFFICER_PURPOSE) return false;
  const partner = convenant.partners.find((p) => p.id === partnerId);
  return partner !== undefined && partner.kind === OFFICER_KIND && partner.purposes.includes(OFFICER_PURPOSE);
}

/** The first officer partner of the convenant (for `convenant token --officer`), if any. */
export function firstOfficerPartner(convenant: Convenant): Partner | undefined {
  return convenant.partners.find((p) => isOfficer(convenant, p.id, OFFICER_PURPOSE));
}

/** Every officer partner of the convenant: who reviews doorbraken and the log. */
export function officerPartnerIds(convenant: Convenant): string[] {
  return convenant.partners.filter((p) => isOfficer(convenant, p.id, OFFICER_PURPOSE)).map((p) => p.id);
}
