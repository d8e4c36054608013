import type { Styler } from './context.js';

/** A table cell: its text, and optionally how to style it once padded. */
export type Cell = string | { text: string; format: Parameters<Styler>[0] };

const textOf = (cell: Cell): string => (typeof cell === 'string' ? cell : cell.text);

/**
 * Aligned columns for a terminal. Widths are measured on the plain text and styling is applied
 * after padding, so colour codes never break the alignment. The last column is not padded.
 */
export function table(rows: readonly (readonly Cell[])[], style: Styler, indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, textOf(cell).length);
    });
  }
  return rows.map((row) => {
    const cells = row.map((cell, i) => {
      const text = i === row.length - 1 ? textOf(cell) : textOf(cell).padEnd(widths[i] ?? 0);
      return typeof cell === 'string' ? text : style(cell.format, text);
    });
    return `${indent}${cells.join('  ')}`.trimEnd();
  });
}

export function heading(text: string, style: Styler): string {
  return style('bold', text);
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
