import { PolicyError, type CompiledConvenant, type FieldAction } from './compile.js';
import { DENIED_BY_DEFAULT, decide, type Decision, type Verdict } from './decide.js';
import { expandFieldPattern } from './match.js';
import { PERSON_ROLES } from './model.js';
import type { CatalogueField, FieldRef, PersonRole, PolicyTest, SourceRef } from './model.js';

/**
 * Runs a convenant's inline tests (docs/convenant-format.md, "Inline tests") through the
 * engine's one decision pass (`decide`), so a test checks exactly what the gateway enforces.
 */

export interface PolicyTestFailure {
  /** Where the failing expectation is written: the field pattern, `expect.manage`, or `as`. */
  src: SourceRef;
  message: string;
}

export interface PolicyTestResult {
  test: PolicyTest;
  ok: boolean;
  failures: PolicyTestFailure[];
}

export interface PolicyTestReport {
  passed: number;
  failed: number;
  results: PolicyTestResult[];
}

interface Expectation {
  action: FieldAction;
  allowed: boolean;
}

const EXPECTATIONS: readonly { key: 'read' | 'write' | 'deny' | 'denyWrite'; expectation: Expectation }[] = [
  { key: 'read', expectation: { action: 'read', allowed: true } },
  { key: 'write', expectation: { action: 'write', allowed: true } },
  { key: 'deny', expectation: { action: 'read', allowed: false } },
  { key: 'denyWrite', expectation: { action: 'write', allowed: false } },
];

export function runPolicyTests(compiled: CompiledConvenant): PolicyTestReport {
  const results = compiled.convenant.tests.map((test) => runPolicyTest(compiled, test));
  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed, results };
}

export function runPolicyTest(compiled: CompiledConvenant, test: PolicyTest): PolicyTestResult {
  const failures = checkTest(compiled, test);
  return { test, ok: failures.length === 0, failures };
}

function checkTest(compiled: CompiledConvenant, test: PolicyTest): PolicyTestFailure[] {
  // One decision pass for the case, and one per person role the expectations need.
  const decisions = new Map<PersonRole | undefined, Decision>();
  const decisionFor = (role: PersonRole | undefined): Decision => {
    let d = decisions.get(role);
    if (!d) {
      d = decide(compiled, { ...test.as, ...test.case, ...(role ? { role } : {}) });
      decisions.set(role, d);
    }
    return d;
  };
  try {
    decisionFor(undefined);
  } catch (error) {
    if (error instanceof PolicyError)
      return [{ src: { ...test.src, path: [...test.src.path, 'as'] }, message: error.message }];
    throw error;
  }
  const ctx: TestContext = { compiled, test, decisionFor };
  const fieldFailures = EXPECTATIONS.flatMap(({ key, expectation }) =>
    test.expect[key].flatMap((ref) => checkPattern(ctx, ref, expectation)),
  );
  return [
    ...fieldFailures,
    ...checkManage(ctx),
    ...checkInvolvement(compiled, test),
    ...checkFieldHistory(compiled, test),
  ];
}

interface TestContext {
  compiled: CompiledConvenant;
  test: PolicyTest;
  decisionFor: (role: PersonRole | undefined) => Decision;
}

function checkPattern(ctx: TestContext, ref: FieldRef, expectation: Expectation): PolicyTestFailure[] {
  const ids = expandFieldPattern(ref.pattern, ctx.compiled.convenant.fields);
  if (ids.length === 0) {
    return [{ src: ref.src, message: `'${ref.pattern}' matches no field in the catalogue` }];
  }
  return ids.flatMap((id) => {
    const field = ctx.compiled.field(id);
    return field ? checkField(ctx, ref, field, expectation) : [];
  });
}

/**
 * Case-level fields are checked once, without a person. Person-level fields are checked for the
 * test's person, or, when the test names none, for every role: an expectation without a person
 * is a claim about all persons in the case.
 */
function checkField(
  ctx: TestContext,
  ref: FieldRef,
  field: CatalogueField,
  expectation: Expectation,
): PolicyTestFailure[] {
  const roles: readonly (PersonRole | undefined)[] =
    field.level === 'case' ? [undefined] : ctx.test.person ? [ctx.test.person.role] : PERSON_ROLES;
  return roles.flatMap((role) => {
    const decision = ctx.decisionFor(role).fields[expectation.action].get(field.id) ?? DENIED_BY_DEFAULT;
    if (decision.allowed === expectation.allowed) return [];
    const what = `${expectation.action} ${field.id}${role ? ` of the ${role}` : ''}`;
    return [{ src: ref.src, message: failureMessage(ctx.test, what, expectation.allowed, decision) }];
  });
}

function checkManage(ctx: TestContext): PolicyTestFailure[] {
  const expected = ctx.test.expect.manage;
  if (expected === undefined) return [];
  const decision = ctx.decisionFor(undefined).manage;
  if (decision.allowed === expected) return [];
  const src = { ...ctx.test.src, path: [...ctx.test.src.path, 'expect', 'manage'] };
  return [{ src, message: failureMessage(ctx.test, 'manage the case', expected, decision) }];
}

function checkInvolvement(compiled: CompiledConvenant, test: PolicyTest): PolicyTestFailure[] {
  const expected = test.expect.involvementMatches;
  if (expected === undefined) return [];
  const actual = compiled.purpose(test.as.purpose).involvementMatches;
  if (actual === expected) return [];
  const src = { ...test.src, path: [...test.src.path, 'expect', 'involvement_matches'] };
  const message =
    `expected ${test.as.partner}/${test.as.purpose} ${expected ? 'to learn' : 'not to learn'} which other ` +
    `partners signalled the same person, but purpose ${test.as.purpose} has involvement_matches: ${actual}.`;
  return [{ src, message }];
}

function checkFieldHistory(compiled: CompiledConvenant, test: PolicyTest): PolicyTestFailure[] {
  const expected = test.expect.fieldHistory;
  if (expected === undefined) return [];
  const actual = compiled.purpose(test.as.purpose).fieldHistory;
  if (actual === expected) return [];
  const src = { ...test.src, path: [...test.src.path, 'expect', 'field_history'] };
  const message =
    `expected ${test.as.partner}/${test.as.purpose} ${expected ? 'to see' : 'not to see'} the history of the ` +
    `fields it may read, but purpose ${test.as.purpose} has field_history: ${actual}.`;
  return [{ src, message }];
}

/** "expected wijkteam/uitvoering-plan to read plan.doelen in phase acute, but no rule grants it" */
function failureMessage(test: PolicyTest, what: string, expectedAllowed: boolean, decision: Verdict): string {
  const who = `${test.as.partner}/${test.as.purpose}`;
  const expectation = `expected ${who} ${expectedAllowed ? 'to' : 'not to'} ${what} ${circumstances(test)}`;
  const rule = decision.ruleId ? `rule '${decision.ruleId}'` : 'a rule';
  const reason = decision.reason ? `: ${decision.reason}` : '';
  if (expectedAllowed) {
    return decision.ruleId
      ? `${expectation}, but ${rule} denies it${reason}`
      : `${expectation}, but no rule grants it`;
  }
  return `${expectation}, but ${rule} grants it${reason}`;
}

function circumstances(test: PolicyTest): string {
  const c = test.case;
  return [
    `in phase ${c.phase}`,
    ...(c.participant ? [] : ['without taking part in the case']),
    ...(c.flags.length > 0 ? [`with case flag${c.flags.length > 1 ? 's' : ''} ${c.flags.join(', ')}`] : []),
    ...(c.emergency ? ['under emergency access'] : []),
  ].join(' ');
}
