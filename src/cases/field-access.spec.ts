import path from 'node:path';
import {
  checkConvenantDir,
  compileConvenant,
  permittedFields,
  PurposeNotAllowedError,
  type CompiledConvenant,
} from '../policy/index.js';
import { FieldAccess } from './field-access.js';

function realConvenant(): CompiledConvenant {
  const result = checkConvenantDir(path.resolve('policies/zvh-rotterdam-rijnmond'));
  if (!result.convenant) throw new Error('the real convenant does not load');
  return compileConvenant(result.convenant);
}

describe('FieldAccess (real convenant)', () => {
  const compiled = realConvenant();
  const sut = new FieldAccess(compiled);
  const stabilisatie = { phase: 'stabilisatie' as const, participant: true, flags: [] };

  it('answers exactly what permittedFields answers, case and person level', () => {
    const ability = compiled.abilityFor('wijkteam', 'uitvoering-plan');
    const subject = { case: { ...stabilisatie, flags: [] }, access: { emergency: false } };
    expect([...sut.permitted('wijkteam', 'uitvoering-plan', 'read', stabilisatie)].sort()).toEqual(
      permittedFields(ability, 'read', subject).sort(),
    );
    expect(
      [...sut.permitted('wijkteam', 'uitvoering-plan', 'read', { ...stabilisatie, role: 'kind' })].sort(),
    ).toEqual(permittedFields(ability, 'read', { ...subject, person: { role: 'kind' } }).sort());
  });

  it('gives the deciding rule and its own legal basis for a grant', () => {
    const d = sut.decide(
      'vtrr',
      'triage',
      'read',
      { ...stabilisatie, role: 'slachtoffer' },
      'betrokkenen.bsn',
    );
    expect(d).toMatchObject({ allowed: true, ruleId: 'vtrr-triage-bsn', legalBasis: ['wabb-10-uavg-46'] });
  });

  it("falls back to the purpose's legal bases for a refusal, naming the deny rule", () => {
    const d = sut.decide(
      'wijkteam',
      'uitvoering-plan',
      'read',
      { ...stabilisatie, role: 'pleger' },
      'zorg.diagnose',
    );
    expect(d.allowed).toBe(false);
    expect(d.ruleId).toBe('gezondheid-niet-buiten-hulpverlening');
    expect(d.legalBasis).toEqual(compiled.purpose('uitvoering-plan').legalBases);
  });

  it('says in a sentence that no rule grants a field denied by default', () => {
    const d = sut.decide('wijkteam', 'uitvoering-plan', 'write', stabilisatie, 'veiligheid.risicotaxatie');
    expect(d).toMatchObject({ allowed: false, ruleId: null });
    expect(d.reason).toMatch(/No rule of the convenant grants wijkteam write under uitvoering-plan/);
  });

  it('hides the geheim adres of the victim, also from the shelter, when the case has the flag', () => {
    const flagged = { ...stabilisatie, flags: ['geheim-adres'], role: 'slachtoffer' as const };
    expect(sut.permitted('arosa', 'opvang', 'read', flagged).has('betrokkenen.adres')).toBe(false);
    expect(sut.permitted('arosa', 'opvang', 'read', { ...flagged, flags: [] }).has('betrokkenen.adres')).toBe(
      true,
    );
    expect(
      sut.permitted('arosa', 'opvang', 'read', { ...flagged, role: 'pleger' }).has('betrokkenen.adres'),
    ).toBe(true);
  });

  it('gives a non-participant nothing', () => {
    expect(
      sut.permitted('politie', 'casusoverleg', 'read', { ...stabilisatie, participant: false }).size,
    ).toBe(0);
  });

  it('memoises per situation, whatever the order of flags', () => {
    const a = sut.permitted('vtrr', 'triage', 'read', { ...stabilisatie, flags: ['top-x', 'stp'] });
    const b = sut.permitted('vtrr', 'triage', 'read', { ...stabilisatie, flags: ['stp', 'top-x'] });
    expect(a).toBe(b);
  });

  it('groups fields by outcome and deciding rule', () => {
    const groups = sut.group('vtrr', 'triage', 'read', { ...stabilisatie, role: 'slachtoffer' }, [
      'betrokkenen.naam',
      'betrokkenen.bsn',
      'betrokkenen.geboortedatum',
      'zorg.diagnose',
    ]);
    expect(groups.map((g) => [g.allowed, g.ruleId, g.fields])).toEqual([
      [true, 'vtrr-triage-lezen', ['betrokkenen.naam', 'betrokkenen.geboortedatum']],
      [true, 'vtrr-triage-bsn', ['betrokkenen.bsn']],
      [false, null, ['zorg.diagnose']],
    ]);
  });

  it('lists read candidates that cover every field any situation grants, and nothing no rule grants', () => {
    const candidates = new Set(sut.readCandidates('wijkteam', 'uitvoering-plan'));
    for (const phase of ['acute', 'stabilisatie', 'herstel', 'afgesloten'] as const) {
      for (const role of [undefined, 'slachtoffer', 'pleger', 'kind', 'gezinslid'] as const) {
        const situation = { phase, participant: true, flags: [], ...(role ? { role } : {}) };
        for (const f of sut.permitted('wijkteam', 'uitvoering-plan', 'read', situation)) {
          expect(candidates.has(f)).toBe(true);
        }
      }
    }
    expect(candidates.has('zorg.diagnose')).toBe(false);
    expect(candidates.has('politie.antecedenten')).toBe(false);
  });

  it('decides manage with its rule', () => {
    expect(sut.manage('vtrr', 'triage', stabilisatie)).toMatchObject({
      allowed: true,
      ruleId: 'vtrr-casus-beheren',
    });
    expect(sut.manage('wijkteam', 'uitvoering-plan', stabilisatie).allowed).toBe(false);
  });

  it('refuses a pair the convenant does not register (fail closed)', () => {
    expect(() => sut.permitted('politie', 'uitvoering-plan', 'read', stabilisatie)).toThrow(
      PurposeNotAllowedError,
    );
  });
});
