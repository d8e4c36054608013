import { UnknownPartnerError, compileConvenant } from './compile.js';
import {
  NO_RULE_GRANTS,
  UnknownCaseFlagError,
  explain,
  type Explanation,
  type FieldExplanation,
} from './explain.js';
import { exampleConvenant } from './testing/convenant-builder.js';

const compiled = compileConvenant(exampleConvenant());

function fieldOf(e: Explanation, id: string): FieldExplanation {
  const f = e.fields.find((x) => x.field === id);
  if (!f) throw new Error(`no explanation for ${id}`);
  return f;
}

describe('explain', () => {
  const wijkteam = explain(compiled, { partner: 'wijkteam', purpose: 'uitvoering-plan' });

  it('gives the phases a grant holds in, its rule, and the legal basis the rule names', () => {
    expect(fieldOf(wijkteam, 'plan.doelen').read).toEqual({
      verdict: 'partly',
      decisions: [
        { allowed: false, reason: NO_RULE_GRANTS, where: [{ phase: 'acute' }, { phase: 'afgesloten' }] },
        {
          allowed: true,
          ruleId: 'wijkteam-plan',
          reason: 'Het wijkteam voert het plan uit.',
          legalBases: [{ id: 'wmo-4-1-1', citation: 'Wmo 2015 art. 4.1.1' }],
          where: [{ phase: 'stabilisatie' }, { phase: 'herstel' }],
        },
      ],
    });
  });

  it('names the deny rule and its reason', () => {
    expect(fieldOf(wijkteam, 'plan.acties').read.decisions).toContainEqual({
      allowed: false,
      ruleId: 'wijkteam-geen-acties-in-herstel',
      reason: 'In herstel zijn de acties afgerond.',
      where: [{ phase: 'herstel' }],
    });
  });

  it('marks fields that only the default denies, and no others', () => {
    expect(fieldOf(wijkteam, 'zorg.diagnose')).toMatchObject({
      deniedByDefault: true,
      read: { verdict: 'denied' },
      write: { verdict: 'denied' },
    });
    expect(fieldOf(wijkteam, 'plan.doelen').deniedByDefault).toBe(false);
    expect(fieldOf(wijkteam, 'plan.doelen').write.verdict).toBe('allowed');
  });

  it('falls back to the purpose bases that permit the field’s sensitivity', () => {
    const vtrr = explain(compiled, { partner: 'vtrr', purpose: 'triage', phase: 'acute' });
    const basesOf = (id: string) => fieldOf(vtrr, id).read.decisions.find((d) => d.allowed)?.legalBases;
    expect(basesOf('zorg.diagnose')).toEqual([{ id: 'avg-9-2-h', citation: 'AVG art. 9 lid 2 sub h' }]);
    expect(basesOf('betrokkenen.bsn')).toEqual([{ id: 'wmo-4-1-1', citation: 'Wmo 2015 art. 4.1.1' }]);
    expect(basesOf('veiligheid.risiconiveau')).toEqual([
      { id: 'avg-6-1-e', citation: 'AVG art. 6 lid 1 sub e' },
      { id: 'wmo-4-1-1', citation: 'Wmo 2015 art. 4.1.1' },
    ]);
  });

  it('lists the roles of person-level fields per phase, and narrows to a given phase, role and flags', () => {
    const flagged = explain(compiled, {
      partner: 'vtrr',
      purpose: 'triage',
      phase: 'acute',
      flags: ['geheim-adres'],
    });
    expect(flagged.scope.phases).toEqual(['acute']);
    expect(fieldOf(flagged, 'betrokkenen.adres').read).toEqual({
      verdict: 'partly',
      decisions: [
        {
          allowed: false,
          ruleId: 'geheim-adres-nooit',
          reason: 'Geheim adres van de opvang wordt nooit gedeeld.',
          where: [{ phase: 'acute', roles: ['slachtoffer'] }],
        },
        expect.objectContaining({
          allowed: true,
          ruleId: 'vtrr-triage',
          where: [{ phase: 'acute', roles: ['pleger', 'kind', 'gezinslid'] }],
        }),
      ],
    });
    const pleger = explain(compiled, {
      partner: 'vtrr',
      purpose: 'triage',
      role: 'pleger',
      flags: ['geheim-adres'],
    });
    expect(fieldOf(pleger, 'betrokkenen.adres').read.verdict).toBe('allowed');
    expect(fieldOf(pleger, 'betrokkenen.adres').read.decisions[0]?.where).toHaveLength(4);
  });

  it('explains manage and the purpose', () => {
    const vtrr = explain(compiled, { partner: 'vtrr', purpose: 'triage' });
    expect(vtrr.manage.decisions).toEqual([
      expect.objectContaining({
        allowed: true,
        ruleId: 'vtrr-regie',
        where: [{ phase: 'acute' }, { phase: 'stabilisatie' }],
      }),
      { allowed: false, reason: NO_RULE_GRANTS, where: [{ phase: 'herstel' }, { phase: 'afgesloten' }] },
    ]);
    expect(vtrr.purpose).toMatchObject({
      id: 'triage',
      retention: 'P5Y',
      emergencyAccess: { allowed: false },
      involvementMatches: false,
      fieldHistory: false,
      legalBases: [
        { id: 'avg-6-1-e', citation: 'AVG art. 6 lid 1 sub e', permits: ['ordinary'] },
        { id: 'wmo-4-1-1', citation: 'Wmo 2015 art. 4.1.1', permits: ['ordinary', 'bsn'] },
        { id: 'avg-9-2-h', citation: 'AVG art. 9 lid 2 sub h', permits: ['health'] },
      ],
    });
    expect(vtrr.policyVersion).toBe(compiled.version);
  });

  it('explains what a non-participant may see under emergency access', () => {
    const doorbraak = explain(compiled, {
      partner: 'politie',
      purpose: 'acute-veiligheid',
      participant: false,
      emergency: true,
    });
    expect(doorbraak.fields.filter((f) => f.read.verdict !== 'denied').map((f) => f.field)).toEqual([
      'betrokkenen.naam',
      'betrokkenen.adres',
    ]);
  });

  it('refuses unknown partners and case flags with a typed error', () => {
    expect(() => explain(compiled, { partner: 'ggd', purpose: 'triage' })).toThrow(UnknownPartnerError);
    expect(() => explain(compiled, { partner: 'vtrr', purpose: 'triage', flags: ['geheim'] })).toThrow(
      new UnknownCaseFlagError('geheim', ['geheim-adres', 'wapens']),
    );
  });
});
