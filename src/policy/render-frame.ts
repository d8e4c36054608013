/**
 * The parts of the rendered convenant that come from its `agreement` and signatories, not from
 * the rules: preamble, roles, the joint arrangement with DPIA and processor, supervision,
 * information duties, data breaches, amendment and term, and the signature blocks. Where the
 * files do not give them, the document says in brackets what is still to be filled in, so a
 * board never signs standard wording unknowingly (validate warns as well).
 */
import type { Agreement, Convenant } from './model.js';
import type { Block, SignatureParty } from './render-output.js';
import { dateNl, durationNl, list, partnerNl, partyNl } from './render-words.js';

const missing = (what: string): string =>
  `[In te vullen: ${what}. Het convenant geeft dit nog niet op (agreement, zie docs/handleiding-juristen.md).]`;

const capital = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** One flowing text: YAML folded or literal blocks keep line breaks that a paragraph does not. */
const flow = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

const paragraphs = (text: string): string[] =>
  text
    .split(/\n\s*\n/)
    .map(flow)
    .filter(Boolean);

export function preambleBlocks(c: Convenant): Block[] {
  return [
    { kind: 'h', level: 2, text: 'Overwegingen' },
    ...(c.agreement
      ? paragraphs(c.agreement.preamble).map((text): Block => ({ kind: 'p', text }))
      : [{ kind: 'p' as const, text: missing('de overwegingen (preambule)') }]),
  ];
}

/** The paragraph on roles under the table of parties (section 1). */
export function rolesText(c: Convenant, officers: readonly string[]): string {
  const a = c.agreement;
  const base =
    'Rollen. Elke partner is zelfstandig verwerkingsverantwoordelijke (AVG art. 4 onder 7) voor de gegevens die hij vastlegt en voor de gegevens die hij via de gateway ontvangt. Voor de gezamenlijke voorziening (de gateway, de gedeelde casusgegevens en het logboek) zijn de partners gezamenlijk verwerkingsverantwoordelijken (AVG art. 26); dit convenant is hun regeling: wie wat mag zien en vastleggen staat in artikel 6, de verdeling van de verantwoordelijkheden in artikel 9, het toezicht in artikel 10.';
  const supervision =
    officers.length > 0 ? ` Het gezamenlijke toezicht op de naleving ligt bij ${list(officers)}.` : '';
  const processor = a
    ? ` ${a.processor.name} beheert de gateway als verwerker (AVG art. 28), zie artikel 9.`
    : '';
  return base + supervision + processor;
}

/** Section 9: the arrangement between joint controllers, the DPIA and the processor. */
export function arrangementBlocks(c: Convenant): Block[] {
  const a = c.agreement;
  const blocks: Block[] = [
    { kind: 'h', level: 2, text: '9. Gezamenlijke regeling, DPIA en verwerker' },
    { kind: 'h', level: 3, text: 'Gezamenlijke verwerkingsverantwoordelijkheid (AVG art. 26)' },
  ];
  if (!a) {
    blocks.push(
      { kind: 'p', text: missing('wie van de partners wat doet en het aanspreekpunt voor betrokkenen') },
      { kind: 'h', level: 3, text: 'Gegevensbeschermingseffectbeoordeling (AVG art. 35)' },
      { kind: 'p', text: missing('de DPIA van de gedeelde verwerking') },
      { kind: 'h', level: 3, text: 'Verwerker (AVG art. 28)' },
      { kind: 'p', text: missing('de beheerder van de gateway en de verwerkersovereenkomst') },
    );
    return blocks;
  }
  const j = a.jointControllership;
  const d = a.dpia;
  const p = a.processor;
  blocks.push(
    { kind: 'p', text: flow(j.arrangement) },
    {
      kind: 'p',
      text:
        `Aanspreekpunt voor betrokkenen (AVG art. 26 lid 1): ${partyNl(c, j.contactPoint)}.` +
        (j.contact ? ` ${flow(j.contact)}` : ''),
    },
    { kind: 'h', level: 3, text: 'Gegevensbeschermingseffectbeoordeling (AVG art. 35)' },
    {
      kind: 'p',
      text:
        `De partners hebben de gedeelde verwerking beoordeeld in de ${d.reference}` +
        (d.date ? `, afgerond op ${dateNl(d.date)}` : '') +
        '.' +
        (d.coordinator
          ? ` ${partnerNl(c, d.coordinator)} bewaart de DPIA en coördineert haar herziening.`
          : '') +
        (d.review ? ` Herziening: ${flow(d.review)}` : ''),
    },
    { kind: 'h', level: 3, text: 'Verwerker (AVG art. 28)' },
    {
      kind: 'p',
      text:
        `${p.name} beheert de gateway en het logboek als verwerker in opdracht van alle partners, op grond van de ${p.agreement}, ` +
        `die ${partnerNl(c, p.contractedBy)} namens de partners sluit.` +
        (p.duties ? ` ${flow(p.duties)}` : ''),
    },
  );
  return blocks;
}

/** The supervision item of section 10 and, with an agreement, who supervises which entries. */
export function supervisionBlocks(
  c: Convenant,
  officers: readonly string[],
): { item: string; table?: Block } {
  const a = c.agreement;
  const review =
    'raadpleegt het logboek per casus, partner en persoon, stelt inzageoverzichten op (AVG art. 15), toetst elke doorbraak en bekijkt opvallende patronen. Ook elke raadpleging door de toezichthouder wordt gelogd.';
  if (!a) {
    return {
      item: `Toezicht: ${officers.length > 0 ? list(officers) : 'de functionaris gegevensbescherming'} ${review} ${missing('welke functionaris op welke vastleggingen toeziet (eigen organisatie of gezamenlijk)')}`,
    };
  }
  return {
    item: `Toezicht: ${flow(a.supervision.arrangement)} De gezamenlijke toezichthouder ${review}`,
    table: {
      kind: 'table',
      head: ['Functionaris gegevensbescherming', 'Ziet toe op'],
      rows: a.supervision.officers.map((o) => [
        partnerNl(c, o.partner),
        o.scope === 'joint'
          ? 'de toegangen van alle partners (gezamenlijke toezichtsregeling, AVG art. 26)'
          : 'de toegangen van de eigen organisatie (AVG art. 39)',
      ]),
    },
  };
}

/** Section 11's items on information duties and the contact point (AVG art. 13, 14 and 26). */
export function informationItems(c: Convenant): string[] {
  const a = c.agreement;
  if (!a) return [`Informatieplicht (AVG art. 13 en 14): ${missing('wie de betrokkene informeert, en hoe')}`];
  const i = a.informationDuties;
  return [
    `Informatieplicht (AVG art. 13 en 14): ${partyNl(c, i.by)} informeert de betrokkene. ${flow(i.how)}` +
      (i.exceptions ? ` Uitzonderingen: ${flow(i.exceptions)}` : ''),
    `Aanspreekpunt (AVG art. 26 lid 1): ${partyNl(c, a.jointControllership.contactPoint)}; zie artikel 9.`,
  ];
}

export function breachBlocks(c: Convenant): Block[] {
  const a = c.agreement;
  const head: Block = { kind: 'h', level: 2, text: '12. Datalekken' };
  if (!a) {
    return [
      head,
      {
        kind: 'p',
        text: `Een partner die een inbreuk op de beveiliging van de gedeelde gegevens ontdekt of vermoedt, meldt dat onverwijld aan de functionaris gegevensbescherming en aan de andere partners wier gegevens het betreft; de inbreuk wordt zo nodig binnen 72 uur gemeld aan de Autoriteit Persoonsgegevens (AVG art. 33) en aan de betrokkenen (art. 34). ${missing('wie coördineert, binnen welke termijn partners melden en wie de Autoriteit Persoonsgegevens inlicht')}`,
      },
    ];
  }
  const b = a.dataBreaches;
  return [
    head,
    {
      kind: 'p',
      text:
        `Een partner of de beheerder die een inbreuk op de beveiliging van de gedeelde gegevens ontdekt of vermoedt, meldt dat binnen ${durationNl(b.reportWithin)} aan ${partnerNl(c, b.coordinator)}, dat de reactie coördineert, en aan de partners wier gegevens het betreft. ` +
        `${capital(partyNl(c, b.notifiesAuthority))} meldt de inbreuk binnen ${durationNl(b.authorityWithin)} nadat zij is ontdekt aan de Autoriteit Persoonsgegevens (AVG art. 33).`,
    },
    { kind: 'p', text: flow(b.procedure) },
  ];
}

function evaluationNl(iso: string): string {
  return iso === 'P1Y' ? 'jaarlijks' : `ten minste eens per ${durationNl(iso)}`;
}

export function termBlocks(c: Convenant): Block[] {
  const a = c.agreement;
  const start = c.effectiveFrom ? `vanaf ${dateNl(c.effectiveFrom)}` : 'vanaf de ondertekening';
  const head: Block = { kind: 'h', level: 2, text: '13. Wijziging en looptijd' };
  if (!a) {
    return [
      head,
      {
        kind: 'p',
        text: `Dit convenant geldt ${start}. Een wijziging krijgt een nieuw versienummer en gaat pas in als de gateway de nieuwe tekst zonder fouten heeft gecontroleerd; tot dan blijft de vorige versie gelden. ${missing('de looptijd, de opzegtermijn, de evaluatie en hoe het convenant wordt gewijzigd')}`,
      },
    ];
  }
  const t: Agreement['term'] = a.term;
  return [
    head,
    {
      kind: 'p',
      text:
        `Looptijd. Dit convenant geldt ${start} ${t.duration ? `voor ${durationNl(t.duration)}` : 'voor onbepaalde tijd'}.` +
        (t.renewal ? ` ${flow(t.renewal)}` : '') +
        ` Een partner kan het convenant opzeggen met een termijn van ${durationNl(t.notice)}; zijn toegang eindigt dan, en de gegevens die hij vastlegde blijven onder de bewaartermijnen van dit convenant.` +
        (t.evaluation ? ` De partners evalueren het convenant ${evaluationNl(t.evaluation)}.` : ''),
    },
    { kind: 'p', text: `Wijziging. ${flow(a.amendment)}` },
  ];
}

export function signatureBlocks(c: Convenant): Block[] {
  const parties: SignatureParty[] = c.partners.map((p) => ({
    party: p.name,
    signatories:
      p.signatories.length > 0
        ? p.signatories.map((s) => ({
            name: s.name,
            function: s.function,
            ...(s.place === undefined ? {} : { place: s.place }),
            ...(s.date === undefined ? {} : { date: dateNl(s.date) }),
          }))
        : [{ name: '', function: '' }],
  }));
  return [
    { kind: 'h', level: 2, text: '14. Ondertekening' },
    {
      kind: 'p',
      text: `Aldus overeengekomen en ondertekend, versie ${c.version}${c.effectiveFrom ? `, van kracht vanaf ${dateNl(c.effectiveFrom)}` : ''}:`,
    },
    { kind: 'sign', parties },
  ];
}
