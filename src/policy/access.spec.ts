import { PERSON_ROLES } from './model.js';
import {
  accessSubject,
  compileConvenant,
  decideField,
  decideManage,
  FIELD_ACTIONS,
  type CompiledConvenant,
} from './compile.js';
import {
  caseSituations,
  effectiveAccess,
  parseSituationKey,
  situationKey,
  summarise,
  universeOf,
} from './access.js';
import { diffConvenants } from './diff.js';
import { buildMatrix } from './matrix.js';
import { checkConvenantDir } from './validate.js';

function compiled(dir: string): CompiledConvenant {
  const result = checkConvenantDir(dir);
  if (!result.convenant) throw new Error(`${dir} must be valid`);
  return compileConvenant(result.convenant);
}

const BASE = compiled('test/fixtures/policies/diff/base/diff-fixture');
const WIDEN = compiled('test/fixtures/policies/diff/widen-health/diff-fixture');
const REAL = compiled('policies/zvh-rotterdam-rijnmond');

describe('effectiveAccess', () => {
  it('agrees with the engine field by field in every situation (4 pairs × 32 situations × 17 field decisions × 2 actions)', () => {
    const access = effectiveAccess(BASE);
    let checked = 0;
    for (const pair of access.pairs) {
      const ability = BASE.abilityFor(pair.partner, pair.purpose);
      for (const s of caseSituations(access.universe)) {
        for (const field of BASE.convenant.fields) {
          const roles = field.level === 'person' ? PERSON_ROLES : [undefined];
          for (const role of roles) {
            const situation = { ...s, ...(role ? { role } : {}) };
            for (const action of FIELD_ACTIONS) {
              const expected = decideField(ability, action, accessSubject(situation), field.id).allowed;
              const listed = pair.fields.get(action)?.get(field.id)?.has(situationKey(situation)) ?? false;
              expect([pair.partner, pair.purpose, action, field.id, situationKey(situation), listed]).toEqual(
                [pair.partner, pair.purpose, action, field.id, situationKey(situation), expected],
              );
              checked++;
            }
          }
        }
        const manage = pair.caseActions.get('manage')?.has(situationKey(s)) ?? false;
        expect(manage).toBe(decideManage(ability, accessSubject(s)).allowed);
      }
    }
    expect(checked).toBe(4 * 32 * 17 * 2);
  });

  it('covers every subset of the flags rules depend on, and nothing else', () => {
    // Since 2026.2 every declared case flag steers a rule (issue: flags declared but unused).
    expect(universeOf(REAL.convenant).flags).toEqual([
      'geheim-adres',
      'meldcode-melding',
      'minderjarige-betrokken',
      'stp',
      'top-x',
    ]);
    const flagSets = new Set(caseSituations({ flags: ['a', 'b'] }).map((s) => s.flags.join('+')));
    expect([...flagSets].sort()).toEqual(['', 'a', 'a+b', 'b']);
  });

  it('round-trips situation keys', () => {
    const s = {
      phase: 'herstel' as const,
      participant: false,
      emergency: true,
      flags: ['geheim-adres'],
      role: 'kind' as const,
    };
    expect(parseSituationKey(situationKey(s))).toEqual(s);
    const { role: _role, ...caseLevel } = s;
    expect(parseSituationKey(situationKey(caseLevel))).toEqual(caseLevel);
  });

  it('summarises what situations have in common', () => {
    const keys = ['acute', 'herstel'].map((phase) =>
      situationKey({
        phase: phase as 'acute',
        participant: true,
        emergency: true,
        flags: ['x'],
        role: 'kind',
      }),
    );
    expect(summarise(keys)).toEqual({
      phases: ['acute', 'herstel'],
      roles: ['kind'],
      participation: 'required',
      emergency: 'only',
      flagsNeeded: ['x'],
      count: 2,
    });
  });
});

describe('diffConvenants', () => {
  it('finds nothing between a convenant and itself', () => {
    const d = diffConvenants(REAL, REAL);
    expect(d.widened).toBe(false);
    expect(d.access).toEqual([]);
  });

  it('is symmetric: what one direction widens, the other narrows', () => {
    const forward = diffConvenants(BASE, WIDEN);
    const back = diffConvenants(WIDEN, BASE);
    const key = (c: (typeof forward.access)[number]) =>
      `${c.partner} ${c.purpose} ${c.action} ${c.field ?? ''} ${JSON.stringify(c.where)}`;
    expect(
      forward.access
        .filter((c) => c.direction === 'widened')
        .map(key)
        .sort(),
    ).toEqual(
      back.access
        .filter((c) => c.direction === 'narrowed')
        .map(key)
        .sort(),
    );
    expect(forward.partners).toEqual({ added: ['dock'], removed: [] });
    expect(back.partners).toEqual({ added: [], removed: ['dock'] });
  });
});

describe('buildMatrix', () => {
  it('marks a section all, some or none from the enforced field sets', () => {
    const m = buildMatrix(BASE);
    const cell = (partner: string, purpose: string, section: string) =>
      m.rows.find((r) => r.partner === partner && r.purpose === purpose)!.cells[section]!;
    expect(cell('vtrr', 'triage', 'zorg')).toMatchObject({
      read: 'all',
      write: 'none',
      readFields: ['zorg.letsel'],
    });
    expect(cell('wijkteam', 'uitvoering-plan', 'veiligheid')).toMatchObject({
      read: 'some',
      readFields: ['veiligheid.veiligheidsplan'],
    });
    expect(m.rows.find((r) => r.partner === 'vtrr' && r.purpose === 'triage')!.caseActions).toEqual([
      'manage',
    ]);
  });
});
