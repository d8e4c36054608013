import type { CompiledConvenant } from './compile.js';
import { renderWhen } from './conditions.js';
import { effectiveAccess, parseSituationKey, summarise, type EffectiveAccess } from './access.js';
import { explain, type DecisionGroup, type Situation } from './explain.js';
import { buildMatrix } from './matrix.js';
import type { Convenant, PersonRole } from './model.js';
import {
  arrangementBlocks,
  breachBlocks,
  informationItems,
  preambleBlocks,
  rolesText,
  signatureBlocks,
  supervisionBlocks,
  termBlocks,
} from './render-frame.js';
import { renderHtml, renderMarkdown, type Block } from './render-output.js';
import { dateNl, durationNl, list, retentionNl, ROLE_NL, SENSITIVITY_NL } from './render-words.js';
export { renderHtml, renderMarkdown, type Block, type SignatureParty } from './render-output.js';
export { dateNl, durationNl, retentionNl, SENSITIVITY_NL } from './render-words.js';

/**
 * The whole convenant as a readable Dutch document for the signing parties, generated from the
 * same compiled convenant the gateway enforces (so text and enforcement cannot drift apart).
 * What the rules cannot say (preamble, joint arrangement, DPIA, processor, breaches, term,
 * signatories) comes from the convenant's `agreement` and partners' `signatories`
 * (render-frame.ts). One document model, rendered to Markdown and to printable HTML
 * (render-output.ts); `convenant render --pdf` prints that HTML.
 */

export interface RenderOptions {
  /** Partner ids of the privacy officers (FG) who review doorbraken and the log. */
  officers?: readonly string[];
}

function whereText(where: readonly Situation[], allPhases: number): string {
  const phases = [...new Set(where.map((w) => w.phase))];
  const phaseText =
    phases.length === allPhases
      ? 'in elke fase'
      : `in de fase${phases.length > 1 ? 's' : ''} ${list(phases)}`;
  const roleSets = [...new Set(where.map((w) => (w.roles ? w.roles.join(',') : '')))];
  if (roleSets.length === 1 && roleSets[0] !== '' && roleSets[0]!.split(',').length < 4) {
    return `${phaseText}, voor ${list(roleSets[0]!.split(',').map((r) => ROLE_NL[r as PersonRole]))}`;
  }
  return phaseText;
}

interface Grant {
  action: string;
  ruleId: string;
  reason: string;
  bases: string[];
  fields: string[];
  where: string;
}

/** Groups the explanation's decisions by rule: one line per rule, its fields, when, why, on which basis. */
function grantsOf(
  compiled: CompiledConvenant,
  partner: string,
  purpose: string,
  phases: number,
): { grants: Grant[]; denies: Grant[] } {
  const plain = explain(compiled, { partner, purpose });
  const grants = new Map<string, Grant>();
  const denies = new Map<string, Grant>();
  const add = (into: Map<string, Grant>, action: string, field: string, d: DecisionGroup) => {
    if (d.ruleId === undefined || d.ruleId.startsWith('builtin:')) return;
    const key = `${action}\u0000${d.ruleId}\u0000${whereText(d.where, phases)}`;
    let g = into.get(key);
    if (!g) {
      g = {
        action,
        ruleId: d.ruleId,
        reason: d.reason,
        bases: (d.legalBases ?? []).map((b) => b.citation),
        fields: [],
        where: whereText(d.where, phases) + flagText(d.ruleId),
      };
      into.set(key, g);
    }
    if (!g.fields.includes(field)) g.fields.push(field);
  };
  const flagText = (ruleId: string) => {
    const flags = compiled.rule(ruleId)?.when.caseFlags ?? [];
    return flags.length > 0 ? ` bij casuskenmerk ${list(flags)}` : '';
  };
  for (const f of plain.fields) {
    for (const action of ['read', 'write'] as const) {
      for (const d of f[action].decisions) if (d.allowed) add(grants, action, f.field, d);
    }
  }
  // A deny is worth stating only where it takes away something a rule grants the pair. Taken
  // from the pair's compiled deny rules (one explain with every flag set would cost as much again).
  const granted = new Set([...grants.values()].flatMap((g) => g.fields.map((f) => `${g.action} ${f}`)));
  for (const raw of compiled.rulesFor(partner, purpose)) {
    const rule = compiled.rule(raw.ruleId);
    if (!raw.inverted || !rule) continue;
    for (const action of raw.action) {
      const fields = (raw.fields ?? []).filter((f) => granted.has(`${action} ${f}`));
      if (fields.length === 0) continue;
      const when = rule.when;
      const where = [
        when.phase && when.phase.length < phases
          ? `in de fase${when.phase.length > 1 ? 's' : ''} ${list(when.phase)}`
          : 'in elke fase',
        ...(when.personRole ? [`voor ${list(when.personRole.map((r) => ROLE_NL[r]))}`] : []),
      ].join(', ');
      denies.set(`${action}\u0000${raw.ruleId}`, {
        action,
        ruleId: raw.ruleId,
        reason: raw.reason,
        bases: [],
        fields,
        where: where + flagText(raw.ruleId) + (when.emergency ? ', bij een doorbraak' : ''),
      });
    }
  }
  for (const d of plain.manage.decisions) if (d.allowed) add(grants, 'manage', 'de casus', d);
  return { grants: mergeActions([...grants.values()]), denies: mergeActions([...denies.values()]) };
}

/** One line for a rule that grants reading and writing the same fields in the same situations. */
function mergeActions(grants: Grant[]): Grant[] {
  const out: Grant[] = [];
  for (const g of grants) {
    const same = out.find(
      (o) => o.ruleId === g.ruleId && o.where === g.where && o.fields.join() === g.fields.join(),
    );
    if (same) same.action = `${same.action}+${g.action}`;
    else out.push({ ...g });
  }
  return out;
}

const actionNl = (action: string): string =>
  list(action.split('+').map((a, i) => (i === 0 ? (ACTION_NL[a] ?? a) : (ACTION_NL[a] ?? a).toLowerCase())));

const ACTION_NL: Record<string, string> = { read: 'Lezen', write: 'Vastleggen', manage: 'Beheren' };

export function documentBlocks(
  compiled: CompiledConvenant,
  options: RenderOptions = {},
  access: EffectiveAccess = effectiveAccess(compiled),
): Block[] {
  const c: Convenant = compiled.convenant;
  const citation = (id: string) => c.legalBases.find((b) => b.id === id)?.citation ?? id;
  const partnerName = (id: string) => c.partners.find((p) => p.id === id)?.name ?? id;
  const officers = (options.officers ?? []).map(partnerName);
  const phases = 4;
  const blocks: Block[] = [];
  const h = (level: 1 | 2 | 3 | 4, text: string) => blocks.push({ kind: 'h', level, text });
  const p = (text: string) => blocks.push({ kind: 'p', text });

  h(1, c.title);
  p(
    `Convenant ${c.id}, versie ${c.version}${c.effectiveFrom ? `, van kracht vanaf ${dateNl(c.effectiveFrom)}` : ''}. ` +
      `Handhavingsversie ${compiled.version}: elke toegang in het logboek noemt deze versie.`,
  );
  blocks.push(...preambleBlocks(c));
  p(
    'Dit document is gegenereerd uit dezelfde convenantbestanden die de gateway handhaaft. Wat hier staat, ' +
      'is wat de gateway toestaat en weigert; wijzigt een regel, dan wijzigen dit document en de handhaving samen.',
  );

  h(2, '1. Partijen en rollen');
  blocks.push({
    kind: 'table',
    head: ['Partner', 'Code', 'Soort', 'Doelen', 'Contact'],
    rows: c.partners.map((x) => [x.name, x.id, x.kind, x.purposes.join(', '), x.contact ?? '']),
  });
  p(rolesText(c, officers));

  h(2, '2. Begrippen');
  blocks.push({
    kind: 'ul',
    items: [
      'Casus: een gezamenlijke zaak rond een gezin of huishouden, met een fase (acuut, stabilisatie, herstel, afgesloten) en betrokkenen in een rol (slachtoffer, pleger, kind, gezinslid).',
      'Deelname: een partner neemt voor bepaalde doelen en voor een bepaalde periode deel aan een casus; eindigt de deelname, dan eindigt de toegang.',
      'Doel (doelbinding): waarvoor gegevens worden gedeeld; elk doel heeft grondslagen, een bewaartermijn en al dan niet een doorbraak.',
      'Doorbraak: spoedtoegang met een schriftelijke reden, kort geldig, gelogd en achteraf getoetst.',
      'Logboek: de vastlegging van elke toegang, toegestaan en geweigerd, die alleen kan worden aangevuld.',
      'Betrokkene: de persoon over wie gegevens gaan (AVG art. 4 onder 1).',
    ],
  });

  h(2, '3. Doelen, grondslagen en bewaartermijnen');
  for (const u of c.purposes) {
    h(3, `${u.name} (${u.id})`);
    p(u.description);
    blocks.push({
      kind: 'ul',
      items: [
        `Grondslagen: ${u.legalBases.map(citation).join('; ')}.`,
        `Bewaartermijn: ${retentionNl(u.retention)}.`,
        u.emergencyAccess.allowed
          ? `Doorbraak: toegestaan${u.emergencyAccess.window ? `, voor ${durationNl(u.emergencyAccess.window)} per doorbraak` : ''}.`
          : 'Doorbraak: niet toegestaan.',
        u.afterClosing
          ? `Na afsluiting: deelnames onder dit doel lopen door tot ${durationNl(u.afterClosing)} na afsluiting van de casus (nazorg); daarna eindigen ze, en de bewaartermijn telt vanaf de afsluiting.`
          : 'Na afsluiting: deelnames onder dit doel eindigen bij afsluiting van de casus.',
        u.involvementMatches
          ? 'Verwijsindex: partners die onder dit doel betrokkenheid bij een persoon melden, horen welke andere partners dat ook deden en hoe die te bereiken zijn (niets meer).'
          : 'Verwijsindex: een melding van betrokkenheid onder dit doel maakt geen andere partners bekend.',
        u.fieldHistory
          ? 'Geschiedenis: onder dit doel zijn ook eerdere versies van de leesbare velden zichtbaar, met de reden van elke correctie.'
          : 'Geschiedenis: onder dit doel is alleen de huidige waarde van een veld zichtbaar.',
      ],
    });
  }

  h(2, '4. Grondslagen');
  blocks.push({
    kind: 'table',
    head: ['Grondslag', 'Toelichting', 'Maakt rechtmatig'],
    rows: c.legalBases.map((b) => [
      b.citation,
      b.description ?? '',
      b.permits.map((s) => SENSITIVITY_NL[s]).join('; '),
    ]),
  });

  h(2, '5. Gegevenscatalogus');
  p(
    'De velden die partners kunnen delen, per onderdeel, met hun gevoeligheid. Een veld op persoonsniveau wordt per persoon beslist (slachtoffer, pleger, kind, gezinslid).',
  );
  for (const s of c.sections) {
    h(3, s.id + (s.description ? `: ${s.description}` : ''));
    blocks.push({
      kind: 'table',
      head: ['Veld', 'Omschrijving', 'Gevoeligheid', 'Niveau'],
      rows: s.fields.map((f) => [
        f.id,
        f.description ?? '',
        SENSITIVITY_NL[f.sensitivity],
        f.level === 'person' ? 'persoon' : 'casus',
      ]),
    });
  }

  for (const entry of c.personRoles) {
    if (entry.disclosedWith === undefined) continue;
    const sharing = c.personRoles.filter((e) => e.shownAs === entry.shownAs).map((e) => e.role);
    p(
      `De rol ${entry.role} van een persoon is zelf een gegeven: ${SENSITIVITY_NL[compiled.field(entry.disclosedWith)?.sensitivity ?? 'ordinary']}. ` +
        `De gateway toont haar alleen aan een partner die het veld ${entry.disclosedWith} van die persoon mag lezen (artikel 6); ` +
        `andere partners zien ${list(sharing)} allemaal als '${entry.shownAs}', zodat dat woord niet verraadt wie wie is.`,
    );
  }

  h(2, '6. Wat elke partner mag zien en vastleggen, en waarom');
  p(
    'Per partner en doel: wat de partner mag als hij aan de casus deelneemt (zonder doorbraak), op grond van welke regel en grondslag, en wat uitdrukkelijk nooit wordt gedeeld. Wat hier niet staat, is niet toegestaan.',
  );
  for (const partner of c.partners) {
    h(3, `${partner.name} (${partner.id})`);
    for (const purpose of partner.purposes) {
      if (!c.purposes.some((u) => u.id === purpose)) continue;
      h(4, `Doel: ${compiled.purpose(purpose).name} (${purpose})`);
      const { grants, denies } = grantsOf(compiled, partner.id, purpose, phases);
      if (grants.length === 0) p('Deze partner krijgt onder dit doel geen gegevens.');
      else {
        blocks.push({
          kind: 'ul',
          items: grants.map(
            (g) =>
              `${actionNl(g.action)}: ${g.fields.join(', ')}; ${g.where}. Waarom: ${g.reason}` +
              (g.bases.length > 0 ? ` Grondslag: ${g.bases.join('; ')}.` : '') +
              ` (regel ${g.ruleId})`,
          ),
        });
      }
      if (denies.length > 0) {
        blocks.push({
          kind: 'ul',
          items: denies.map(
            (g) =>
              `Nooit ${actionNl(g.action).toLowerCase()}: ${g.fields.join(', ')}; ${g.where}. Waarom: ${g.reason} (regel ${g.ruleId})`,
          ),
        });
      }
    }
  }

  h(2, '7. Wat nooit wordt gedeeld');
  const denyRules = c.rules.filter((r) => r.effect === 'deny');
  if (denyRules.length === 0)
    p('Het convenant kent geen verboden; wat geen regel toestaat, is niet toegestaan.');
  else {
    p(
      'Deze verboden gaan voor elke regel die iets toestaat, ook bij een doorbraak, en ook waar (nog) geen regel het gegeven zou toestaan:',
    );
    blocks.push({
      kind: 'ul',
      items: denyRules.map((r) => {
        const who =
          r.partners === '*' || (r.partners === undefined && r.partnerKinds === undefined)
            ? 'iedere partner'
            : r.partners !== undefined
              ? list(r.partners.map(partnerName))
              : `partners van de soort ${list(r.partnerKinds ?? [])}`;
        const under = r.purposes === '*' ? 'onder elk doel' : `onder ${list(r.purposes)}`;
        const when = renderWhen(r.when);
        const fields = r.fields.length > 0 ? r.fields.map((f) => f.pattern).join(', ') : 'de casus';
        return `Nooit ${actionNl(r.actions.join('+')).toLowerCase()}: ${fields}; geldt voor ${who}, ${under}${when.length > 0 ? `, ${when.join(', ')}` : ''}. Waarom: ${r.reason} (regel ${r.id})`;
      }),
    });
  }

  h(2, '8. Doorbraak (spoedtoegang)');
  const emergencyPurposes = c.purposes.filter((u) => u.emergencyAccess.allowed);
  if (emergencyPurposes.length === 0) {
    p('Geen enkel doel staat een doorbraak toe.');
  } else {
    p(
      'Als er geen tijd te verliezen is, kan een professional met een schriftelijke reden om spoedtoegang vragen, ook ' +
        'als zijn organisatie (nog) niet aan de casus deelneemt. De toegang geldt kort, wordt in het logboek als ' +
        'doorbraak vastgelegd en komt in de wachtrij voor toetsing door de functionaris gegevensbescherming' +
        (officers.length > 0 ? ` (${list(officers)})` : '') +
        ', die haar beoordeelt als rechtmatig, onrechtmatig of onduidelijk.',
    );
    blocks.push({
      kind: 'table',
      head: ['Doel', 'Venster'],
      rows: emergencyPurposes.map((u) => [
        `${u.name} (${u.id})`,
        u.emergencyAccess.window ? durationNl(u.emergencyAccess.window) : 'standaardvenster van de gateway',
      ]),
    });
    const opened: string[] = [];
    for (const pair of access.pairs) {
      if (!compiled.purpose(pair.purpose).emergencyAccess.allowed) continue;
      const extra = (action: string) =>
        [...(pair.fields.get(action as 'read')?.entries() ?? [])]
          .filter(([, keys]) =>
            [...keys].some(
              (k) => k.includes('|emergency|') && !keys.has(k.replace('|emergency|', '|normal|')),
            ),
          )
          .map(([field]) => field);
      const read = extra('read');
      if (read.length === 0) continue;
      const keys = [...(pair.fields.get('read')?.get(read[0]!) ?? [])].filter(
        (k) => parseSituationKey(k).emergency,
      );
      const phasesText = list(summarise(keys).phases);
      opened.push(
        `${partnerName(pair.partner)} (${pair.partner}), doel ${pair.purpose}: ${read.join(', ')} (fasen: ${phasesText}).`,
      );
    }
    if (opened.length > 0) {
      p('Wat een doorbraak extra opent (lezen), per partner en doel:');
      blocks.push({ kind: 'ul', items: opened });
    } else p('Geen regel opent bij een doorbraak meer gegevens dan zonder.');
  }

  blocks.push(...arrangementBlocks(c));

  h(2, '10. Logboek en toezicht');
  const supervision = supervisionBlocks(c, officers);
  blocks.push({
    kind: 'ul',
    items: [
      'Elke toegang wordt vastgelegd, toegestaan en geweigerd, lezen en vastleggen: welke partner en professional, voor welk doel, welke casus en welke persoon (als referentie), welke velden, de beslissende regel en grondslag, en de handhavingsversie van het convenant.',
      'Geen gegeven verlaat de gateway voordat de vastlegging ervan in het logboek is opgeslagen; kan het logboek niet worden geschreven, dan wordt het verzoek geweigerd.',
      'Het logboek kan alleen worden aangevuld, niet gewijzigd: elke vastlegging is met een hashketen aan de vorige verbonden en de keten wordt regelmatig ondertekend, zodat wijzigingen aantoonbaar zijn.',
      supervision.item,
      'Elke versie van het convenant wordt met haar volledige tekst bewaard, zodat bij elke vastlegging in het logboek de tekst is terug te vinden die de beslissing nam.',
      `Bewaartermijnen van de gedeelde gegevens, per doel (gerekend zoals in artikel 3): ${c.purposes.map((u) => `${u.name}: ${durationNl(u.retention)}`).join('; ')}.`,
    ],
  });
  if (supervision.table) blocks.push(supervision.table);

  h(2, '11. Rechten van betrokkenen en informatieplicht');
  blocks.push({
    kind: 'ul',
    items: [
      'Inzage (AVG art. 15): een betrokkene richt zijn verzoek aan een van de partners; die legt het voor aan de functionaris gegevensbescherming, die uit het logboek een overzicht opstelt van wie welke gegevens, wanneer, voor welk doel en op welke grondslag heeft ingezien of vastgelegd.',
      'Rectificatie (art. 16): een onjuist gegeven wordt gecorrigeerd door de partner die het vastlegde; de correctie krijgt een reden en de eerdere versie blijft voor de verantwoording bewaard.',
      'Wissing en beperking (art. 17 en 18): gegevens worden gewist zodra de bewaartermijn van hun doel is verstreken; een verzoek daarvoor eerder beoordeelt de partner die het gegeven vastlegde, met de functionaris gegevensbescherming.',
      'Bezwaar (art. 21): een bezwaar wordt beoordeeld door de partner die de casus inbracht, in overleg met de betrokken partners; een besluit wordt de betrokkene schriftelijk en met redenen meegedeeld.',
      'Een verzoek wordt binnen een maand beantwoord (art. 12 lid 3). Waar de veiligheid van een slachtoffer of kind dat vraagt, kan inzage worden beperkt (UAVG art. 41); de reden wordt vastgelegd.',
      ...informationItems(c),
    ],
  });

  blocks.push(...breachBlocks(c), ...termBlocks(c), ...signatureBlocks(c));

  h(2, 'Bijlage: matrix van toegang');
  const matrix = buildMatrix(compiled, access);
  const coverage = { all: '●', some: '◐', none: '·' } as const;
  blocks.push({
    kind: 'table',
    head: ['Partner', 'Doel', ...matrix.sections],
    rows: matrix.rows.map((row) => [
      row.partnerName,
      row.purposeName,
      ...matrix.sections.map((section) => {
        const cell = row.cells[section];
        return cell ? `L${coverage[cell.read]} V${coverage[cell.write]}${cell.emergency ? ' !' : ''}` : '';
      }),
    ]),
  });
  p(
    'L lezen, V vastleggen; ● alle velden van het onderdeel, ◐ sommige, · geen (zonder doorbraak, in enige fase of rol); ! een doorbraak opent meer velden.',
  );
  return blocks;
}

export type DocumentFormat = 'html' | 'markdown';

export function renderConvenant(
  compiled: CompiledConvenant,
  format: DocumentFormat,
  options: RenderOptions = {},
  access?: EffectiveAccess,
): string {
  const blocks = documentBlocks(compiled, options, access);
  return format === 'html'
    ? renderHtml(blocks, `${compiled.convenant.title} (${compiled.version})`)
    : renderMarkdown(blocks);
}
