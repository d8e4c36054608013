import { caseReferencePrefix, newSubjectRef } from './identifiers.js';

describe('caseReferencePrefix', () => {
  it.each([
    ['zvh-rotterdam-rijnmond', 'ZVH'],
    ['vh-twente', 'VH'],
    ['veiligheidshuis-twente', 'VT'],
    ['veiligheidshuis-a-b-c-d-e-f-g-h-i-j-k-l-m', 'VABCDEFGHIJK'],
    ['2026-pilot', '2026'],
  ])('%s gives %s', (id, prefix) => {
    expect(caseReferencePrefix(id)).toBe(prefix);
  });

  it('always fits the database check on cases.reference', () => {
    for (const id of ['a', 'x-y-z', 'abcdefg', 'convenant-met-een-heel-lange-naam-voor-een-regio']) {
      expect(`${caseReferencePrefix(id)}-2026-000001`).toMatch(/^[A-Z0-9]{1,12}-[0-9]{4}-[0-9]{6,}$/);
    }
  });
});

describe('newSubjectRef', () => {
  it('is p_ and 20 base32 characters, fresh every time', () => {
    const a = newSubjectRef();
    expect(a).toMatch(/^p_[a-z2-7]{20}$/);
    expect(newSubjectRef()).not.toBe(a);
  });
});
