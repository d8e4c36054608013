/**
 * Semantic checks on a loaded convenant: references resolve, ids are unique, every grant of
 * special-category data rests on a legal basis that permits it, and rules that can never have
 * an effect are pointed out. Each finding is a Diagnostic with a stable code and a plain
 * sentence, positioned at the item a jurist has to change. The checks live in validate-rules.ts,
 * validate-bases.ts and validate-effect.ts (shared lookups and wording in validate-context.ts).
 */
import {
  didYouMean,
  formatPosition,
  ISO_8601_DURATION,
  loadConvenantDir,
  loadConvenantSources,
  sortDiagnostics,
  type LoadOptions,
  type LoadResult,
} from './load.js';
import { asOlderFormatNote } from './load-upgrade.js';
import type { Convenant, Diagnostic, Partner, Purpose, SourceRef } from './model.js';
import { type Context, type Locate, context } from './validate-context.js';
import { fieldRefProblems, ruleProblems, unknownReference } from './validate-rules.js';
import { ineffectiveRules, unreachableRules } from './validate-effect.js';
import { aftercareProblems, legalBasisProblems } from './validate-bases.js';
import { agreementProblems, personRoleProblems } from './validate-agreement.js';

/** Loads and validates a convenant folder. `convenant` is null when anything is an error: fail closed. */
export function checkConvenantDir(dir: string): LoadResult {
  return checked(loadConvenantDir(dir));
}

/** The same checks on files already read (see readConvenantFolder). */
export function checkConvenantSources(
  dir: string,
  files: { path: string; text: string }[],
  options: LoadOptions = {},
): LoadResult {
  return checked(loadConvenantSources(dir, files, options), options);
}

function checked(loaded: LoadResult, options: LoadOptions = {}): LoadResult {
  const found = loaded.convenant ? validateConvenant(loaded.convenant, loaded.locate) : [];
  const semantic = options.olderFormat ? found.map(asOlderFormatNote) : found;
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...semantic]);
  const failed = diagnostics.some((d) => d.severity === 'error');
  return { convenant: failed ? null : loaded.convenant, diagnostics, locate: loaded.locate };
}

/**
 * `policies/x/40-rules.yaml:12:7 error unknown-field: …`, always one line: a message may quote
 * text from the file (a complex YAML key can hold line breaks), and a jurist's editor and every
 * tool reading this output expect one diagnostic per line.
 */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.position ? `${formatPosition(d.position)} ` : '';
  return `${where}${d.severity} ${d.code}: ${oneLineMessage(d)}`;
}

/** A diagnostic's message with every line break (and the indentation after it) made one space. */
export function oneLineMessage(d: Diagnostic): string {
  return d.message.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ');
}

export function validateConvenant(c: Convenant, locate: Locate): Diagnostic[] {
  const ctx = context(c, locate);
  return [
    ...duplicateIds(ctx),
    ...c.partners.flatMap((p) => partnerProblems(ctx, p)),
    ...c.purposes.flatMap((p) => purposeProblems(ctx, p)),
    ...c.rules.flatMap((r) => ruleProblems(ctx, r)),
    ...c.tests.flatMap((t) => testProblems(ctx, t)),
    ...unreachableRules(ctx),
    ...ineffectiveRules(ctx),
    ...legalBasisProblems(ctx),
    ...aftercareProblems(ctx),
    ...agreementProblems(ctx),
    ...personRoleProblems(ctx),
  ];
}

// ---------------------------------------------------------------------------------------------
// Duplicates
// ---------------------------------------------------------------------------------------------

function duplicateIds(ctx: Context): Diagnostic[] {
  const { c } = ctx;
  return [
    ...duplicates(ctx, c.partners, (p) => p.id, 'duplicate-partner', 'Partner'),
    ...duplicates(ctx, c.purposes, (p) => p.id, 'duplicate-purpose', 'Purpose'),
    ...duplicates(ctx, c.legalBases, (b) => b.id, 'duplicate-legal-basis', 'Legal basis'),
    ...duplicates(ctx, c.caseFlags, (f) => f.id, 'duplicate-case-flag', 'Case flag'),
    ...duplicates(ctx, c.fields, (f) => f.id, 'duplicate-field', 'Field'),
    ...duplicates(ctx, c.rules, (r) => r.id, 'duplicate-rule', 'Rule'),
    ...duplicates(ctx, c.tests, (t) => t.name, 'duplicate-test', 'Test'),
  ];
}

/** Reports every later occurrence of an id, naming where it was first given. */
function duplicates<T extends { src: SourceRef }>(
  ctx: Context,
  items: readonly T[],
  idOf: (item: T) => string,
  code: string,
  noun: string,
): Diagnostic[] {
  const first = new Map<string, T>();
  const found: Diagnostic[] = [];
  for (const item of items) {
    const id = idOf(item);
    const earlier = first.get(id);
    if (!earlier) first.set(id, item);
    else
      found.push(
        ctx.report(
          'error',
          code,
          `${noun} '${id}' is given twice: first at ${ctx.where(earlier.src)}. Each must be unique; remove or rename one.`,
          item.src,
        ),
      );
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Partners and purposes
// ---------------------------------------------------------------------------------------------

function partnerProblems(ctx: Context, partner: Partner): Diagnostic[] {
  // Keys (one of 'keys' and 'jwks_uri') are the schema's to check: see KEY_CHOICES in load.ts.
  const found: Diagnostic[] = [];
  partner.purposes.forEach((id, i) => {
    if (!ctx.purposes.has(id))
      found.push(unknownReference(ctx, 'purpose', id, `Partner '${partner.id}'`, partner.src, 'purposes', i));
  });
  return found;
}

function purposeProblems(ctx: Context, purpose: Purpose): Diagnostic[] {
  const found: Diagnostic[] = [];
  purpose.legalBases.forEach((id, i) => {
    if (!ctx.bases.has(id))
      found.push(
        unknownReference(ctx, 'legal-basis', id, `Purpose '${purpose.id}'`, purpose.src, 'legal_bases', i),
      );
  });
  const bases = purpose.legalBases.map((id) => ctx.bases.get(id));
  // With an unknown basis the jurist may have meant an art. 6 one; that error is reported already.
  if (bases.every((b) => b !== undefined) && !bases.some((b) => b.permits.includes('ordinary'))) {
    found.push(
      ctx.report(
        'error',
        'purpose-without-ordinary-basis',
        `Purpose '${purpose.id}' has no legal basis that permits ordinary personal data (${purpose.legalBases.join(', ') || 'none given'}). Every purpose needs an AVG art. 6 basis; an art. 9 or 10 exception alone is not enough.`,
        purpose.src,
        'legal_bases',
      ),
    );
  }
  if (purpose.retention === '') {
    found.push(
      ctx.report(
        'error',
        'missing-retention',
        `Purpose '${purpose.id}' has no retention period. Add 'retention' as an ISO-8601 duration, e.g. P5Y.`,
        purpose.src,
      ),
    );
  } else if (!ISO_8601_DURATION.test(purpose.retention)) {
    found.push(
      ctx.report(
        'error',
        'invalid-retention',
        `Purpose '${purpose.id}' has retention '${purpose.retention}', which is not an ISO-8601 duration; write e.g. P5Y (5 years) or P18M (18 months).`,
        purpose.src,
        'retention',
      ),
    );
  }
  const window = purpose.emergencyAccess.window;
  if (window !== undefined && !ISO_8601_DURATION.test(window)) {
    found.push(
      ctx.report(
        'error',
        'invalid-emergency-window',
        `Purpose '${purpose.id}' has emergency window '${window}', which is not an ISO-8601 duration; write e.g. PT60M (60 minutes).`,
        purpose.src,
        'emergency_access',
        'window',
      ),
    );
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

function testProblems(ctx: Context, test: Convenant['tests'][number]): Diagnostic[] {
  const label = `Test '${test.name}'`;
  const found: Diagnostic[] = [];
  if (!ctx.partners.has(test.as.partner)) {
    found.push(
      ctx.report(
        'error',
        'unknown-partner',
        `${label} acts as partner '${test.as.partner}', which is not declared.${didYouMean(test.as.partner, ctx.partners.keys())}`,
        test.src,
        'as',
        'partner',
      ),
    );
  }
  if (!ctx.purposes.has(test.as.purpose))
    found.push(unknownReference(ctx, 'purpose', test.as.purpose, label, test.src, 'as', 'purpose'));
  const partner = ctx.partners.get(test.as.partner);
  // The gateway refuses such a token before any rule is asked, so the test could only fail.
  if (partner && ctx.purposes.has(test.as.purpose) && !partner.purposes.includes(test.as.purpose)) {
    found.push(
      ctx.report(
        'error',
        'test-purpose-not-registered',
        `${label} acts as '${partner.id}' under purpose '${test.as.purpose}', but that partner may not act under it (its purposes: ${partner.purposes.join(', ') || 'none'}). Add the purpose to the partner, or test under one of its purposes.`,
        test.src,
        'as',
        'purpose',
      ),
    );
  }
  test.case.flags.forEach((flag, i) => {
    if (!ctx.flags.has(flag))
      found.push(unknownReference(ctx, 'case-flag', flag, label, test.src, 'case', 'flags', i));
  });
  const { read, write, deny, denyWrite } = test.expect;
  found.push(
    ...[...read, ...write, ...deny, ...denyWrite].flatMap((ref) => fieldRefProblems(ctx, ref, label)),
  );
  return found;
}
