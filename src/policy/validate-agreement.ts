/**
 * Checks of what the signed text says besides the rules (`agreement`, partners' `signatories`)
 * and of how person roles are shown (`person_roles`). Errors where the text would contradict
 * the law or the convenant itself; warnings where a board would get an incomplete document.
 * See docs/handleiding-juristen.md ("Het convenant als document").
 */
import { didYouMean } from './load.js';
import { expandFieldPattern, ruleAppliesTo } from './match.js';
import {
  CONTROLLER_OF_RECORD,
  EVERY_PARTNER,
  PERSON_ROLES,
  type Agreement,
  type Convenant,
  type Diagnostic,
  type Partner,
} from './model.js';
import type { Context } from './validate-context.js';

/** A privacy officer as the gateway serves one: the whole log (src/audit/officer.ts). */
const OFFICER = 'toezicht';

/** AVG art. 33 lid 1: notify the supervisory authority within 72 hours of becoming aware. */
const AUTHORITY_HOURS = 72;

export function agreementProblems(ctx: Context): Diagnostic[] {
  const { c } = ctx;
  const a = c.agreement;
  // A convenant still being written (or a test fixture) need not be a document yet; render says
  // what its document lacks (documentGaps). Once an agreement is given, it is checked in full.
  if (!a) return [];
  const found: Diagnostic[] = [
    ...partyProblems(ctx, a),
    ...breachProblems(ctx, a),
    ...supervisionProblems(ctx, a),
    ...dateProblems(ctx, a),
  ];
  for (const partner of c.partners) {
    if (partner.signatories.length === 0)
      found.push(
        ctx.report(
          'warning',
          'missing-signatory',
          `Partner '${partner.id}' names no signatory, so its signature block will have no name or function. Add 'signatories: [{ name: …, function: … }]'.`,
          partner.src,
        ),
      );
  }
  return found;
}

/** Ids in the agreement that must name a partner (or, where allowed, a role in the case). */
function partyProblems(ctx: Context, a: Agreement): Diagnostic[] {
  const found: Diagnostic[] = [];
  const check = (id: string | undefined, what: string, special: readonly string[], ...path: string[]) => {
    if (id === undefined || ctx.partners.has(id) || special.includes(id)) return;
    const also = special.length > 0 ? ` or ${special.map((s) => `'${s}'`).join(' or ')}` : '';
    found.push(
      ctx.report(
        'error',
        'unknown-partner',
        `The agreement names '${id}' as ${what}, which is not a partner of the convenant${also}.${didYouMean(id, [...ctx.partners.keys(), ...special])}`,
        a.src,
        ...path,
      ),
    );
  };
  const R = [CONTROLLER_OF_RECORD];
  check(a.jointControllership.contactPoint, 'contact point', R, 'joint_controllership', 'contact_point');
  check(a.dpia.coordinator, 'DPIA coordinator', [], 'dpia', 'coordinator');
  check(a.informationDuties.by, 'who informs', [...R, EVERY_PARTNER], 'information_duties', 'by');
  check(a.processor.contractedBy, 'party to the processing agreement', [], 'processor', 'contracted_by');
  check(a.dataBreaches.coordinator, 'breach coordinator', [], 'data_breaches', 'coordinator');
  check(
    a.dataBreaches.notifiesAuthority,
    'who notifies the authority',
    R,
    'data_breaches',
    'notifies_authority',
  );
  return found;
}

function breachProblems(ctx: Context, a: Agreement): Diagnostic[] {
  const b = a.dataBreaches;
  const found: Diagnostic[] = [];
  const authority = hoursOf(b.authorityWithin);
  if (authority > AUTHORITY_HOURS)
    found.push(
      ctx.report(
        'error',
        'breach-notification-too-late',
        `A breach must be notified to the Autoriteit Persoonsgegevens within 72 hours of becoming aware of it (AVG art. 33 lid 1); '${b.authorityWithin}' is later. Write PT72H or less.`,
        a.src,
        'data_breaches',
        'authority_within',
      ),
    );
  if (hoursOf(b.reportWithin) >= authority)
    found.push(
      ctx.report(
        'warning',
        'breach-report-too-late',
        `Partners report a breach to the coordinator within '${b.reportWithin}', no sooner than the authority must be notified ('${b.authorityWithin}'), which leaves no time to assess and notify. Shorten it (e.g. PT24H).`,
        a.src,
        'data_breaches',
        'report_within',
      ),
    );
  return found;
}

/**
 * The gateway shows an officer partner every partner's entries; a privacy officer has no
 * competence over other controllers (AVG art. 39), so that must be the agreed joint arrangement.
 */
function supervisionProblems(ctx: Context, a: Agreement): Diagnostic[] {
  const found: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const o of a.supervision.officers) {
    const partner = ctx.partners.get(o.partner);
    if (!partner) {
      found.push(
        ctx.report(
          'error',
          'unknown-partner',
          `The supervision arrangement names '${o.partner}', which is not a partner of the convenant.${didYouMean(o.partner, ctx.partners.keys())}`,
          o.src,
          'partner',
        ),
      );
      continue;
    }
    if (seen.has(o.partner))
      found.push(
        ctx.report('error', 'duplicate-supervisor', `'${o.partner}' is named twice.`, o.src, 'partner'),
      );
    seen.add(o.partner);
    const gatewayOfficer = partner.kind === OFFICER && partner.purposes.includes(OFFICER);
    if (gatewayOfficer && o.scope !== 'joint')
      found.push(
        ctx.report(
          'error',
          'officer-scope-mismatch',
          `'${o.partner}' is an officer partner (kind and purpose '${OFFICER}'), to whom the gateway shows every partner's log entries, but the arrangement gives it scope '${o.scope}'. Give it scope 'joint' (by mandate of all partners), or make it an officer of its own organisation only outside the gateway.`,
          o.src,
          'scope',
        ),
      );
  }
  for (const partner of ctx.c.partners) {
    if (partner.kind === OFFICER && partner.purposes.includes(OFFICER) && !seen.has(partner.id))
      found.push(
        ctx.report(
          'error',
          'officer-without-arrangement',
          `Partner '${partner.id}' reads every partner's log entries as privacy officer, but the supervision arrangement does not name it. Add '{ partner: ${partner.id}, scope: joint }' to agreement.supervision.officers.`,
          partner.src,
        ),
      );
  }
  return found;
}

function dateProblems(ctx: Context, a: Agreement): Diagnostic[] {
  const found: Diagnostic[] = [];
  const from = ctx.c.effectiveFrom;
  if (from === undefined) {
    found.push(
      ctx.report(
        'warning',
        'missing-effective-date',
        "The convenant gives no 'effective_from', so the document cannot say when it takes effect and its term has no start.",
        a.src,
        'term',
      ),
    );
    return found;
  }
  if (a.dpia.date !== undefined && a.dpia.date > from)
    found.push(
      ctx.report(
        'warning',
        'dpia-after-start',
        `The DPIA is dated ${a.dpia.date}, after the convenant takes effect (${from}); AVG art. 35 asks for it before the processing starts.`,
        a.src,
        'dpia',
        'date',
      ),
    );
  return found;
}

/** An ISO-8601 duration in hours; a month counts as 30 days and a year as 365. */
export function hoursOf(iso: string): number {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(
    iso,
  );
  if (!m) return Number.POSITIVE_INFINITY;
  const [y = 0, mo = 0, w = 0, d = 0, h = 0, mi = 0, s = 0] = m.slice(1).map((x) => Number(x ?? 0));
  return (y * 365 + mo * 30 + w * 7 + d) * 24 + h + mi / 60 + s / 3600;
}

/**
 * `person_roles`: a role shown only with a catalogue field must name a person-level field nobody
 * writes, and the general word that replaces it must be shared by another role, or the word
 * itself betrays the role.
 */
export function personRoleProblems(ctx: Context): Diagnostic[] {
  const found: Diagnostic[] = [];
  const entries = ctx.c.personRoles;
  for (const [i, entry] of entries.entries()) {
    const at = (message: string, code: string, severity: Diagnostic['severity'], ...path: string[]) =>
      found.push(ctx.report(severity, code, message, entry.src, ...path));
    const earlier = entries.slice(0, i).find((e) => e.role === entry.role);
    if (earlier)
      at(
        `How '${entry.role}' is shown is also said at ${ctx.where(earlier.src)}; say it once.`,
        'duplicate-person-role',
        'error',
      );
    if ((PERSON_ROLES as readonly string[]).includes(entry.shownAs))
      at(
        `'${entry.role}' would be shown as '${entry.shownAs}', which is itself a role: readers would be told something untrue. Use a general word such as 'betrokkene'.`,
        'role-shown-as-role',
        'error',
        'shown_as',
      );
    const sharing = entries.filter((e) => e.shownAs === entry.shownAs);
    if (entry.disclosedWith !== undefined && sharing.length < 2)
      at(
        `Only '${entry.role}' is shown as '${entry.shownAs}', so the word betrays the role it hides. Give at least one other role the same 'shown_as' (e.g. gezinslid).`,
        'role-word-betrays-role',
        'error',
        'shown_as',
      );
    if (entry.disclosedWith === undefined) continue;
    found.push(...toldApart(ctx, entry.shownAs));
    const field = ctx.fields.get(entry.disclosedWith);
    if (!field) {
      at(
        `'${entry.disclosedWith}' is not a field in the data catalogue.${didYouMean(entry.disclosedWith, ctx.fields.keys())}`,
        'unknown-field',
        'error',
        'disclosed_with',
      );
      continue;
    }
    if (field.level !== 'person')
      at(
        `'${field.id}' is a case-level field; a role belongs to a person, so name a field with 'level: person'.`,
        'role-field-not-person',
        'error',
        'disclosed_with',
      );
    if (field.sensitivity === 'ordinary')
      at(
        `'${field.id}' is ordinary personal data, yet it hides the role '${entry.role}'; give it the sensitivity the role has (e.g. criminal), so rules that show it need a basis that permits that.`,
        'role-field-ordinary',
        'warning',
        'disclosed_with',
      );
    for (const rule of ctx.c.rules) {
      if (rule.effect !== 'allow' || !rule.actions.includes('write')) continue;
      for (const [i, ref] of rule.fields.entries()) {
        if (!expandFieldPattern(ref.pattern, ctx.c.fields).includes(field.id)) continue;
        found.push(
          ctx.report(
            'error',
            'role-field-written',
            `Rule '${rule.id}' lets partners write '${field.id}'${ref.pattern === field.id ? '' : ` (through '${ref.pattern}')`}, but that field stands for the role '${entry.role}' (person_roles): its value is the person's role in the case and nobody writes it. Name the other fields one by one.`,
            rule.src,
            'fields',
            i,
          ),
        );
      }
    }
  }
  return found;
}

/**
 * A rule that decides differently for roles shown under one word lets a reader who gets the word
 * tell them apart by the fields it sees (a pleger shown as 'betrokkene' with no name, a gezinslid
 * with one). Rules on the disclosing fields themselves are meant to differ. A warning: whether the
 * rule reaches readers who get the word depends on the partners and situations.
 */
function toldApart(ctx: Context, word: string): Diagnostic[] {
  const group = ctx.c.personRoles.filter((e) => e.shownAs === word);
  const roles = group.map((e) => e.role);
  const disclosing = new Set(group.flatMap((e) => (e.disclosedWith ? [e.disclosedWith] : [])));
  if (roles.length < 2) return [];
  return ctx.c.rules.flatMap((rule) => {
    const named = rule.when.personRole;
    if (!named) return [];
    const inGroup = roles.filter((r) => named.includes(r));
    if (inGroup.length === 0 || inGroup.length === roles.length) return [];
    const fields = rule.fields.flatMap((f) => expandFieldPattern(f.pattern, ctx.c.fields));
    if (fields.every((f) => disclosing.has(f))) return [];
    // Only readers that may get the word matter: not those a rule lets read the role itself.
    const seesRole = (partner: Partner, purpose: string) =>
      ctx.c.rules.some(
        (r) =>
          r.effect === 'allow' &&
          r.actions.includes('read') &&
          ruleAppliesTo(r, partner, purpose) &&
          r.fields.some((f) => expandFieldPattern(f.pattern, ctx.c.fields).some((id) => disclosing.has(id))),
      );
    const reached = ctx.c.partners.some((partner) =>
      partner.purposes.some(
        (purpose) => ruleAppliesTo(rule, partner, purpose) && !seesRole(partner, purpose),
      ),
    );
    if (!reached) return [];
    return [
      ctx.report(
        'warning',
        'role-word-told-apart',
        `Rule '${rule.id}' applies to ${inGroup.join(' and ')} but not to ${roles.filter((r) => !inGroup.includes(r)).join(' and ')}, which are shown together as '${word}': a reader that gets the word may tell them apart by the fields it sees. Make the rule apply to every role shown as '${word}', or accept that readers it reaches can tell.`,
        rule.src,
        'when',
        'person.role',
      ),
    ];
  });
}

/**
 * What the rendered document of a convenant lacks for a board to sign it, in words for the
 * `render` command's warnings: the agreement as a whole, or per partner its signatories.
 */
export function documentGaps(c: Convenant): string[] {
  if (!c.agreement)
    return [
      "the convenant gives no 'agreement' (preamble, term, amendment, joint arrangement, DPIA, information duties, processor, data breaches, supervision): the document marks these parts '[In te vullen: …]'",
    ];
  return c.partners
    .filter((p) => p.signatories.length === 0)
    .map((p) => `partner '${p.id}' names no signatory: its signature block is left blank`);
}
