import type { CatalogueField, FieldType, Sensitivity } from '../policy/index.js';
import { MAX_STRING_LENGTH, MAX_TEXT_LENGTH, fieldValueProblem } from './field-values.js';

function field(
  type: FieldType,
  extra: { values?: string[]; sensitivity?: Sensitivity } = {},
): CatalogueField {
  return {
    id: `s.${type}`,
    section: 's',
    name: type,
    sensitivity: extra.sensitivity ?? 'ordinary',
    level: 'case',
    type,
    ...(extra.values ? { values: extra.values } : {}),
    src: { file: 'x.yaml', path: [] },
  };
}

describe('fieldValueProblem', () => {
  it.each<[FieldType, unknown]>([
    ['string', 'Anna de Vries'],
    ['text', 'Eerste regel\nTweede regel'],
    ['date', '2026-02-28'],
    ['date', '2024-02-29'],
    ['datetime', '2026-03-01T14:30:00+01:00'],
    ['datetime', '2026-03-01T14:30:00.123Z'],
    ['boolean', false],
    ['number', 0],
    ['number', -3.5],
  ])('accepts a %s value %j', (type, value) => {
    expect(fieldValueProblem(field(type), value)).toBeUndefined();
  });

  it.each<[FieldType, unknown]>([
    ['string', 42],
    ['string', ''],
    ['string', '   '],
    ['string', 'two\nlines'],
    ['string', 'x'.repeat(MAX_STRING_LENGTH + 1)],
    ['text', 'x'.repeat(MAX_TEXT_LENGTH + 1)],
    ['text', { nested: 'object' }],
    ['text', ['array']],
    ['date', '2026-02-30'],
    ['date', '2026-2-3'],
    ['date', '2026-02-03T00:00:00Z'],
    ['datetime', '2026-03-01T14:30:00'],
    ['datetime', '2026-13-01T14:30:00Z'],
    ['boolean', 'true'],
    ['number', '3'],
    ['number', Number.NaN],
    ['number', Number.POSITIVE_INFINITY],
  ])('refuses a %s value %j', (type, value) => {
    expect(fieldValueProblem(field(type), value)).toMatch(/^s\./);
  });

  it('accepts only listed enum values', () => {
    const f = field('enum', { values: ['laag', 'hoog'] });
    expect(fieldValueProblem(f, 'hoog')).toBeUndefined();
    expect(fieldValueProblem(f, 'HOOG')).toMatch(/one of: laag, hoog/);
    expect(fieldValueProblem(f, 1)).toMatch(/one of/);
  });

  it('accepts null for every type (no longer known), but not a missing value', () => {
    expect(fieldValueProblem(field('boolean'), null)).toBeUndefined();
    expect(fieldValueProblem(field('string'), undefined)).toMatch(/needs a value/);
  });

  it('checks a BSN-sensitivity field with the 11-test and never echoes the value', () => {
    const bsn = field('string', { sensitivity: 'bsn' });
    expect(fieldValueProblem(bsn, '123456782')).toBeUndefined();
    const problem = fieldValueProblem(bsn, '123456781');
    expect(problem).toMatch(/11-test/);
    expect(problem).not.toContain('123456781');
    expect(fieldValueProblem(bsn, 123456782)).toMatch(/11-test/);
  });
});
