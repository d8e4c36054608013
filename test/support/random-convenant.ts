import fc from 'fast-check';
import type { AccessSubjectInput } from '../../src/policy/compile.js';
import { PERSON_ROLES, PHASES, type Convenant, type PersonRole } from '../../src/policy/model.js';
import {
  buildConvenant,
  type ConvenantSpec,
  type RuleSpec,
} from '../../src/policy/testing/convenant-builder.js';

/**
 * Random convenants and subjects for the engine's property tests (compile.spec.ts against a
 * reference evaluator, decide.spec.ts against CASL's own per-field answers): three partners of
 * two kinds, three purposes, case- and person-level fields, up to 14 rules of every shape
 * `when` allows.
 */

export const FLAGS = ['geheim-adres', 'wapens'];
export const PARTNERS = [
  { id: 'a', kind: 'zorg' },
  { id: 'b', kind: 'zorg' },
  { id: 'c', kind: 'justitie' },
];
export const PURPOSES = ['u1', 'u2', 'u3'];
const CATALOGUE: ConvenantSpec['catalogue'] = {
  s: { a: {}, b: {}, p: { level: 'person' } },
  t: { x: { level: 'person' }, y: { level: 'person' } },
  v: { z: {} },
};
export const PATTERNS = ['*', 's.*', 't.*', 'v.*', 's.a', 's.b', 's.p', 't.x', 't.y', 'v.z', 'leeg.*'];

const someOf = <T>(xs: readonly T[]) => fc.subarray([...xs], { minLength: 1 });
const ruleArb = (i: number): fc.Arbitrary<RuleSpec> =>
  fc
    .record(
      {
        deny: fc.boolean(),
        actions: someOf(['read', 'write', 'manage'] as const),
        target: fc.oneof(
          fc.constant<{ partner: '*' }>({ partner: '*' }),
          someOf(PARTNERS.map((p) => p.id)).map((partner) => ({ partner })),
          someOf(['zorg', 'justitie']).map((partner_kind) => ({ partner_kind })),
        ),
        purpose: fc.oneof(fc.constant<'*'>('*'), someOf(PURPOSES)),
        fields: someOf(PATTERNS),
        participant: fc.constantFrom<(true | 'any' | undefined)[]>(true, 'any', undefined),
        phase: fc.option(fc.subarray([...PHASES]), { nil: undefined }),
        role: fc.option(fc.subarray([...PERSON_ROLES]), { nil: undefined }),
        flags: fc.option(someOf(FLAGS), { nil: undefined }),
        emergency: fc.option(fc.constant<true>(true), { nil: undefined }),
      },
      { requiredKeys: ['deny', 'actions', 'target', 'purpose', 'fields'] },
    )
    .map((r): RuleSpec => ({
      id: `r${i}`,
      ...r.target,
      purpose: r.purpose,
      [r.deny ? 'cannot' : 'can']: r.actions,
      fields: r.fields,
      when: {
        ...(r.participant !== undefined ? { participant: r.participant } : {}),
        ...(r.phase ? { phase: r.phase } : {}),
        ...(r.role ? { 'person.role': r.role } : {}),
        ...(r.flags ? { 'case.flag': r.flags } : {}),
        ...(r.emergency ? { emergency: r.emergency } : {}),
      },
    }));

export const convenantArb: fc.Arbitrary<Convenant> = fc
  .tuple(
    fc.tuple(...PARTNERS.map(() => someOf(PURPOSES))),
    fc.subarray(PURPOSES),
    fc
      .integer({ min: 0, max: 14 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => ruleArb(i)))),
  )
  .map(([partnerPurposes, emergencyPurposes, rules]) =>
    buildConvenant({
      caseFlags: FLAGS,
      legalBases: { b: { permits: ['ordinary'] } },
      partners: PARTNERS.map((p, i) => ({ ...p, purposes: partnerPurposes[i] ?? [] })),
      purposes: PURPOSES.map((id) => ({
        id,
        legalBases: ['b'],
        ...(emergencyPurposes.includes(id) ? { emergency: {} } : {}),
      })),
      catalogue: CATALOGUE,
      rules,
    }),
  );

export const subjectArb: fc.Arbitrary<AccessSubjectInput> = fc.record(
  {
    phase: fc.constantFrom(...PHASES),
    participant: fc.boolean(),
    flags: fc.subarray(FLAGS),
    role: fc.constantFrom<PersonRole>(...PERSON_ROLES),
    emergency: fc.boolean(),
  },
  { requiredKeys: ['phase', 'participant', 'flags', 'emergency'] },
);
