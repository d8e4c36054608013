import type { CatalogueField } from '../policy/index.js';
import { isValidBsn } from './bsn.js';

/**
 * Checks a value against its catalogue field's type before anything is written. Pure, so the
 * rules are unit-tested and shared by registration and contributions. `null` is allowed for every
 * field: it records that the value is no longer known (the history keeps what it was).
 */

/** Single-line values (names, contacts) and free text; generous, but bounded. */
export const MAX_STRING_LENGTH = 500;
export const MAX_TEXT_LENGTH = 10_000;

/** JSON values as stored in the jsonb column; strings, numbers, booleans or null. */
export type FieldValue = string | number | boolean | null;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** A sentence saying what is wrong with `value` for `field`, or undefined when it is acceptable. */
export function fieldValueProblem(field: CatalogueField, value: unknown): string | undefined {
  if (value === undefined) return `${field.id} needs a value (null records that it is no longer known).`;
  if (value === null) return undefined;
  if (field.sensitivity === 'bsn') {
    return typeof value === 'string' && isValidBsn(value)
      ? undefined
      : `${field.id} must be a BSN: nine digits that pass the 11-test.`;
  }
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string' || value.trim() === '') return `${field.id} must be a non-empty string.`;
      if (/[\r\n]/.test(value)) return `${field.id} must be a single line; use a text field for more.`;
      return value.length > MAX_STRING_LENGTH
        ? `${field.id} is longer than ${MAX_STRING_LENGTH} characters.`
        : undefined;
    case 'text':
      if (typeof value !== 'string' || value.trim() === '') return `${field.id} must be a non-empty string.`;
      return value.length > MAX_TEXT_LENGTH
        ? `${field.id} is longer than ${MAX_TEXT_LENGTH} characters.`
        : undefined;
    case 'date':
      return typeof value === 'string' && isCalendarDate(value)
        ? undefined
        : `${field.id} must be a date as YYYY-MM-DD.`;
    case 'datetime':
      return typeof value === 'string' && DATETIME.test(value) && isCalendarDate(value.slice(0, 10))
        ? undefined
        : `${field.id} must be a date and time with a time zone, e.g. 2026-03-01T14:30:00+01:00.`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${field.id} must be true or false.`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : `${field.id} must be a number.`;
    case 'enum':
      return typeof value === 'string' && (field.values ?? []).includes(value)
        ? undefined
        : `${field.id} must be one of: ${(field.values ?? []).join(', ')}.`;
  }
}

/** Narrows after `fieldValueProblem` returned undefined. */
export function isFieldValue(value: unknown): value is FieldValue {
  return (
    value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number'
  );
}
