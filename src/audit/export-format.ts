import { ENTRY_KEYS } from '../access-log/export-file.js';
import type { AuditEvent } from './audit.repository.js';

/**
 * The CSV format of an access log export, for reading (a spreadsheet, a report); the NDJSON
 * export is the one to verify (src/access-log/export-file.ts), because a CSV row cannot carry a
 * seal and a signed checkpoint without becoming a second, weaker copy of that format. CSV (RFC 4180): one header line, then one line per entry; list columns joined with `;` (ids
 * never contain one). Values are written exactly as logged, never altered, so an export can be
 * compared with the log.
 */

/** The columns of both export formats: the NDJSON entry line's keys, in the same order. */
export const EXPORT_COLUMNS = ENTRY_KEYS satisfies readonly (keyof AuditEvent)[];

/** Quotes a value when it holds a separator, a quote or a line break, doubling inner quotes. */
export function csvValue(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvHeader(): string {
  return `${EXPORT_COLUMNS.join(',')}\r\n`;
}

export function csvLine(event: AuditEvent): string {
  return (
    EXPORT_COLUMNS.map((column) => {
      const value = event[column];
      if (value === null) return '';
      if (Array.isArray(value)) return csvValue(value.join(';'));
      return csvValue(String(value));
    }).join(',') + '\r\n'
  );
}
