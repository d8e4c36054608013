/**
 * The words of the rendered convenant (render.ts): sensitivities, durations, dates, lists and
 * the parties the agreement names, as a signed Dutch text writes them.
 */
import {
  CONTROLLER_OF_RECORD,
  EVERY_PARTNER,
  type AgreementParty,
  type Convenant,
  type PersonRole,
  type Sensitivity,
} from './model.js';

export const SENSITIVITY_NL: Record<Sensitivity, string> = {
  ordinary: 'gewoon persoonsgegeven',
  bsn: 'burgerservicenummer (BSN)',
  health: 'bijzonder persoonsgegeven: gezondheid (AVG art. 9)',
  criminal: 'strafrechtelijk gegeven (AVG art. 10)',
  'confidential-address': 'geheim adres',
};

const UNITS: Record<string, [string, string]> = {
  Y: ['jaar', 'jaar'],
  M: ['maand', 'maanden'],
  W: ['week', 'weken'],
  D: ['dag', 'dagen'],
  H: ['uur', 'uur'],
  Mt: ['minuut', 'minuten'],
  S: ['seconde', 'seconden'],
};

const NUMBER_WORDS = [
  'nul',
  'één',
  'twee',
  'drie',
  'vier',
  'vijf',
  'zes',
  'zeven',
  'acht',
  'negen',
  'tien',
  'elf',
  'twaalf',
  'dertien',
  'veertien',
  'vijftien',
  'zestien',
  'zeventien',
  'achttien',
  'negentien',
  'twintig',
];

/** A count as a signed text writes it: in words up to twenty, in digits beyond. */
const countNl = (n: number): string => NUMBER_WORDS[n] ?? String(n);

/** `P5Y` → `vijf jaar`, `PT60M` → `60 minuten`, `P1Y6M` → `één jaar en zes maanden`. */
export function durationNl(iso: string): string {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(
    iso,
  );
  if (!m) return iso;
  const parts = (['Y', 'M', 'W', 'D', 'H', 'Mt', 'S'] as const).flatMap((unit, i) => {
    const n = m[i + 1];
    if (n === undefined) return [];
    const [one, many] = UNITS[unit]!;
    return [`${countNl(Number(n))} ${Number(n) === 1 ? one : many}`];
  });
  if (parts.length === 0) return iso;
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} en ${parts.at(-1)!}`;
}

/**
 * A purpose's retention as a signed text says it: the term runs from when the partner that
 * recorded the data no longer takes part (closing a case ends every participation).
 */
export function retentionNl(iso: string): string {
  const words = durationNl(iso);
  return words === iso
    ? iso
    : `${words} na het einde van de deelname van de partner die het gegeven vastlegde, uiterlijk ${words} na afsluiting van de casus`;
}

const MONTHS = [
  'januari',
  'februari',
  'maart',
  'april',
  'mei',
  'juni',
  'juli',
  'augustus',
  'september',
  'oktober',
  'november',
  'december',
];

/** `2026-01-01` → `1 januari 2026`. */
export function dateNl(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  const month = m ? MONTHS[Number(m[2]) - 1] : undefined;
  return m && month ? `${Number(m[3])} ${month} ${m[1]}` : iso;
}

/** "a", "a en b", "a, b en c". */
export const list = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} en ${items.at(-1)!}`;

export const ROLE_NL: Record<PersonRole, string> = {
  slachtoffer: 'het slachtoffer',
  pleger: 'de pleger',
  kind: 'het kind',
  gezinslid: 'het gezinslid',
};

/** A partner's name with its code, e.g. "Zorg- en Veiligheidshuis Rotterdam-Rijnmond (zvh)". */
export function partnerNl(c: Convenant, id: string): string {
  const partner = c.partners.find((p) => p.id === id);
  return partner ? `${partner.name} (${id})` : id;
}

/** Who the agreement names: a partner, the partner that brought the case in, or each partner. */
export function partyNl(c: Convenant, who: AgreementParty): string {
  if (who === CONTROLLER_OF_RECORD)
    return 'de partner die de casus inbracht (verantwoordelijke van registratie)';
  if (who === EVERY_PARTNER) return 'elke partner, voor zijn eigen cliënten';
  return partnerNl(c, who);
}
