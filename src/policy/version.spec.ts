import type { Convenant } from './model.js';
import { EXAMPLE_SPEC, buildConvenant, exampleConvenant } from './testing/convenant-builder.js';
import { canonicalJson, policyVersion } from './version.js';

const reversed = <T>(xs: readonly T[]): T[] => [...xs].reverse();

/** The same convenant as if its YAML were split over two files in another folder and written in another order. */
function reshuffled(c: Convenant): Convenant {
  const moved = <T extends { src: { path: readonly (string | number)[] } }>(x: T, i: number): T => ({
    ...x,
    src: { file: i % 2 === 0 ? 'b-regels.yaml' : 'a-basis.yaml', path: ['elders', i] },
  });
  return {
    ...c,
    dir: '/elsewhere/zvh',
    files: ['a-basis.yaml', 'b-regels.yaml'],
    caseFlags: reversed(c.caseFlags).map(moved),
    legalBases: reversed(c.legalBases).map((b, i) => moved({ ...b, permits: reversed(b.permits) }, i)),
    partners: reversed(c.partners).map((p, i) => moved({ ...p, purposes: reversed(p.purposes) }, i)),
    purposes: reversed(c.purposes).map(moved),
    sections: reversed(c.sections).map((s, i) => moved({ ...s, fields: reversed(s.fields).map(moved) }, i)),
    fields: reversed(c.fields).map(moved),
    rules: reversed(c.rules).map((r, i) =>
      moved({ ...r, fields: reversed(r.fields).map(moved), actions: reversed(r.actions) }, i),
    ),
    tests: [],
  };
}

describe('policyVersion', () => {
  const base = exampleConvenant();

  it('is <version>+<first 12 hex of a SHA-256>', () => {
    const v = policyVersion(base);
    expect(v.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(v.version).toBe(`2026.1+${v.hash.slice(0, 12)}`);
  });

  it('is stable across file splitting, reordering, source positions and tests', () => {
    const withTests = buildConvenant({
      ...EXAMPLE_SPEC,
      tests: [
        {
          as: { partner: 'vtrr', purpose: 'triage' },
          case: { phase: 'acute' },
          expect: { read: ['zorg.diagnose'] },
        },
      ],
    });
    expect(policyVersion(reshuffled(base))).toEqual(policyVersion(base));
    expect(policyVersion(withTests)).toEqual(policyVersion(base));
  });

  it.each<[string, (c: Convenant) => Convenant]>([
    [
      'a rule reason',
      (c) => ({ ...c, rules: c.rules.map((r, i) => (i === 0 ? { ...r, reason: `${r.reason}!` } : r)) }),
    ],
    [
      'a rule phase',
      (c) => ({
        ...c,
        rules: c.rules.map((r) =>
          r.id === 'wijkteam-plan' ? { ...r, when: { ...r.when, phase: ['herstel' as const] } } : r,
        ),
      }),
    ],
    [
      'a rule effect',
      (c) => ({
        ...c,
        rules: c.rules.map((r) => (r.id === 'vtrr-triage' ? { ...r, effect: 'deny' as const } : r)),
      }),
    ],
    [
      'a field sensitivity',
      (c) => ({
        ...c,
        fields: c.fields.map((f) => (f.id === 'plan.doelen' ? { ...f, sensitivity: 'health' as const } : f)),
      }),
    ],
    [
      'a partner purpose',
      (c) => ({ ...c, partners: c.partners.map((p) => ({ ...p, purposes: p.purposes.slice(1) })) }),
    ],
    ['a retention period', (c) => ({ ...c, purposes: c.purposes.map((u) => ({ ...u, retention: 'P9Y' })) })],
    ['the version string', (c) => ({ ...c, version: '2026.2' })],
  ])('changes when %s changes', (_what, change) => {
    expect(policyVersion(change(base)).hash).not.toBe(policyVersion(base).hash);
  });
});

describe('canonicalJson', () => {
  it('sorts keys and arrays and drops undefined members', () => {
    expect(canonicalJson({ b: [3, 1, 2], a: { d: undefined, c: 'x' } })).toBe('{"a":{"c":"x"},"b":[1,2,3]}');
  });

  it('distinguishes values that stringify alike after naive joining', () => {
    expect(canonicalJson(['a,b'])).not.toBe(canonicalJson(['a', 'b']));
  });
});
