import fc from 'fast-check';
import {
  CASE_GUARD_ID,
  PERSON_GUARD_ID,
  FIELD_ACTIONS,
  PurposeNotAllowedError,
  accessSubject,
  compileConvenant,
  decideField,
  decideManage,
  permittedFields,
} from './compile.js';
import { DENIED_BY_DEFAULT, Decisions, decide, decisionKey } from './decide.js';
import { buildConvenant } from './testing/convenant-builder.js';
import { convenantArb, subjectArb } from '../../test/support/random-convenant.js';

describe('decide (one decision pass)', () => {
  it('equals CASL field by field: permittedFieldsOf (same order), relevantRuleFor and manage', () => {
    fc.assert(
      fc.property(convenantArb, fc.array(subjectArb, { minLength: 1, maxLength: 6 }), (c, subjects) => {
        const compiled = compileConvenant(c);
        const disagreements: unknown[] = [];
        for (const partner of c.partners) {
          for (const purpose of partner.purposes) {
            const ability = compiled.abilityFor(partner.id, purpose);
            for (const input of subjects) {
              const s = accessSubject(input);
              const d = decide(compiled, { partner: partner.id, purpose, ...input });
              for (const action of FIELD_ACTIONS) {
                const expected = permittedFields(ability, action, s);
                if ([...d.allowed[action]].join() !== expected.join()) {
                  disagreements.push({
                    partner: partner.id,
                    purpose,
                    input,
                    action,
                    expected,
                    got: d.allowed[action],
                  });
                }
                for (const field of c.fields) {
                  const one = decideField(ability, action, s, field.id);
                  const v = d.fields[action].get(field.id)!;
                  if (v.allowed !== one.allowed || v.ruleId !== one.ruleId || v.reason !== one.reason) {
                    disagreements.push({
                      partner: partner.id,
                      purpose,
                      input,
                      action,
                      field: field.id,
                      one,
                      v,
                    });
                  }
                }
              }
              const manage = decideManage(ability, s);
              if (d.manage.allowed !== manage.allowed || d.manage.ruleId !== manage.ruleId) {
                disagreements.push({ partner: partner.id, purpose, input, manage, got: d.manage });
              }
            }
          }
        }
        expect(disagreements).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  const c = buildConvenant({
    caseFlags: ['geheim-adres'],
    partners: [{ id: 'p', kind: 'k', purposes: ['u'] }],
    purposes: [{ id: 'u', legalBases: ['gewoon', 'zorg'] }],
    legalBases: {
      gewoon: { permits: ['ordinary'] },
      zorg: { permits: ['ordinary', 'health'] },
      eigen: { permits: ['ordinary'] },
    },
    catalogue: { s: { a: {}, d: { sensitivity: 'health' } }, t: { x: { level: 'person' } } },
    rules: [
      { id: 'lezen', partner: 'p', can: 'read', fields: ['s.*'] },
      { id: 'met-grond', partner: 'p', can: 'read', fields: ['t.x'], legal_basis: ['eigen'] },
      {
        id: 'geheim',
        partner: 'p',
        cannot: 'read',
        fields: ['s.a'],
        when: { 'case.flag': ['geheim-adres'] },
      },
    ],
  });
  const compiled = compileConvenant(c);

  it('names the legal bases: the rule’s own, else the purpose’s that permit the field’s sensitivity', () => {
    const d = decide(compiled, { partner: 'p', purpose: 'u', phase: 'acute', participant: true });
    expect(d.fields.read.get('s.a')).toMatchObject({
      allowed: true,
      ruleId: 'lezen',
      bases: ['gewoon', 'zorg'],
      basesFrom: 'purpose',
    });
    expect(d.fields.read.get('s.d')).toMatchObject({
      allowed: true,
      ruleId: 'lezen',
      bases: ['zorg'],
      basesFrom: 'purpose',
    });
    expect(d.fields.read.get('t.x')).toMatchObject({ allowed: false, ruleId: PERSON_GUARD_ID });
    expect(d.fields.write.get('s.a')).toBe(DENIED_BY_DEFAULT);
    expect(d.purposeBases).toEqual(['gewoon', 'zorg']);
    const person = decide(compiled, {
      partner: 'p',
      purpose: 'u',
      phase: 'acute',
      participant: true,
      role: 'kind',
    });
    expect(person.fields.read.get('t.x')).toMatchObject({
      allowed: true,
      ruleId: 'met-grond',
      bases: ['eigen'],
      basesFrom: 'rule',
    });
    expect(person.fields.read.get('s.a')).toMatchObject({ allowed: false, ruleId: CASE_GUARD_ID });
  });

  it('lets a matching deny decide, with its reason and no bases', () => {
    const d = decide(compiled, {
      partner: 'p',
      purpose: 'u',
      phase: 'acute',
      participant: true,
      flags: ['geheim-adres'],
    });
    expect(d.fields.read.get('s.a')).toMatchObject({ allowed: false, ruleId: 'geheim', bases: [] });
    expect([...d.allowed.read]).toEqual(['s.d']);
  });

  it('keys situations by content, flags as a set', () => {
    const base = { partner: 'p', purpose: 'u', phase: 'acute' as const, participant: true };
    expect(decisionKey({ ...base, flags: ['b', 'a', 'a'] })).toBe(
      decisionKey({ ...base, flags: ['a', 'b'] }),
    );
    expect(decisionKey({ ...base, emergency: false })).toBe(decisionKey(base));
    expect(decisionKey({ ...base, role: 'kind' })).not.toBe(decisionKey(base));
    const memo = new Decisions(compiled);
    expect(memo.for({ ...base, flags: ['geheim-adres'] })).toBe(
      memo.for({ ...base, flags: ['geheim-adres'] }),
    );
  });

  it('refuses an unregistered pair (fail closed)', () => {
    const two = compileConvenant(
      buildConvenant({
        partners: [{ id: 'p', kind: 'k', purposes: ['u'] }],
        purposes: [
          { id: 'u', legalBases: ['b'] },
          { id: 'v', legalBases: ['b'] },
        ],
        legalBases: { b: { permits: ['ordinary'] } },
        catalogue: { s: { a: {} } },
        rules: [],
      }),
    );
    expect(() => decide(two, { partner: 'p', purpose: 'v', phase: 'acute', participant: true })).toThrow(
      PurposeNotAllowedError,
    );
  });
});
