import { checkConvenantDir, compileConvenant } from '../policy/index.js';
import { FieldAccess } from './field-access.js';
import { orderShown, roleView } from './person-roles.js';

const compiled = compileConvenant(checkConvenantDir('policies/zvh-rotterdam-rijnmond').convenant!);
const access = new FieldAccess(compiled);
const base = { phase: 'stabilisatie' as const, participant: true, flags: [] };

describe('roleView (person_roles of the Rotterdam convenant)', () => {
  it('shows politie in the casusoverleg every role as registered', () => {
    const shown = roleView(compiled.convenant, access, 'politie', 'casusoverleg', base);
    expect(shown('pleger')).toEqual({ role: 'pleger', generalised: false });
    expect(shown('gezinslid')).toEqual({ role: 'gezinslid', generalised: false });
  });

  it('shows welfare and the wijkteam pleger and gezinslid as betrokkene, slachtoffer and kind as they are', () => {
    for (const [partner, purpose] of [
      ['dock', 'uitvoering-plan'],
      ['wijkteam', 'casusoverleg'],
    ] as const) {
      const shown = roleView(compiled.convenant, access, partner, purpose, base);
      expect(shown('pleger')).toEqual({ role: 'betrokkene', generalised: true });
      expect(shown('gezinslid')).toEqual({ role: 'betrokkene', generalised: true });
      expect(shown('slachtoffer')).toEqual({ role: 'slachtoffer', generalised: false });
      expect(shown('kind')).toEqual({ role: 'kind', generalised: false });
    }
  });

  it('shows the procesregisseur the pleger only in a Top X case', () => {
    expect(roleView(compiled.convenant, access, 'zvh', 'casusoverleg', base)('pleger').generalised).toBe(
      true,
    );
    const topX = { ...base, flags: ['top-x'] };
    expect(roleView(compiled.convenant, access, 'zvh', 'casusoverleg', topX)('pleger').role).toBe('pleger');
  });
});

describe('orderShown', () => {
  const g = (role: string) => ({ role, generalised: role === 'betrokkene' });
  it('lists persons under one word together, by reference, where the first of them stood', () => {
    const persons = [
      { subjectRef: 'p_s', shown: g('slachtoffer') },
      { subjectRef: 'p_z', shown: g('betrokkene') },
      { subjectRef: 'p_k2', shown: g('kind') },
      { subjectRef: 'p_k1', shown: g('kind') },
      { subjectRef: 'p_a', shown: g('betrokkene') },
    ];
    expect(orderShown(persons).map((p) => p.subjectRef)).toEqual(['p_s', 'p_a', 'p_z', 'p_k2', 'p_k1']);
  });
});
