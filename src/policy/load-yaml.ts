/**
 * Stage 1 of loading (see load.ts): parsing each YAML file with the position of every node, and
 * syntax and structure problems (nesting depth, aliases) as diagnostics.
 */
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { Diagnostic, SourcePosition } from './model.js';
import { sentence } from './load-text.js';

// ---------------------------------------------------------------------------------------------
// Stage 1: parsing with positions
// ---------------------------------------------------------------------------------------------

export interface SourceFile {
  path: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** Set when the file is refused before it is turned into data (too deep, bad aliases). */
  refused?: Diagnostic[];
  /** Where the first alias (`*name`) is: an alias bomb is reported there. */
  firstAlias?: SourcePosition;
}

/**
 * Deeper than this, a file is refused before it is turned into data. The format itself needs
 * about eight levels; the limit keeps recursion in the validator and the schema check bounded.
 */
const MAX_DEPTH = 64;

/**
 * How often aliases (`*name`) may be expanded in one file: plenty for a list shared by a few
 * rules, far too few for an "alias bomb" that expands a few lines into millions of values.
 */
export const MAX_ALIAS_COUNT = 100;

export function parseSource(path: string, text: string): SourceFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source: SourceFile = { path, text, doc, lines };
  // With syntax errors the structure is unreliable; those errors are reported instead.
  if (doc.errors.length === 0) {
    const refused = structureProblems(source);
    if (refused.length > 0) source.refused = refused;
  }
  return source;
}

/** Too deep nesting and aliases without an anchor, found in one walk without recursion. */
function structureProblems(source: SourceFile): Diagnostic[] {
  const anchors = new Set<string>();
  const found: Diagnostic[] = [];
  const at = (node: unknown): SourcePosition => {
    const range = rangeOf(node);
    return range ? offsetPosition(source, range[0]) : { file: source.path, line: 1, column: 1 };
  };
  // Depth-first in document order, so an anchor is seen before the aliases that follow it.
  const stack: { node: unknown; depth: number }[] = [{ node: source.doc.contents, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() ?? { node: null, depth: 0 };
    if (isNode(node) && node.anchor !== undefined) anchors.add(node.anchor);
    if (isAlias(node)) source.firstAlias ??= at(node);
    if (isAlias(node) && !anchors.has(node.source)) {
      found.push({
        severity: 'error',
        code: 'unknown-alias',
        message: `'*${node.source}' repeats the value marked '&${node.source}', but no value above it carries that mark. Write the value out, or mark it with '&${node.source}' before this line.`,
        position: at(node),
      });
    }
    if (!isMap(node) && !isSeq(node)) continue;
    if (isMap(node)) {
      // `? ` at a line start makes a list or map a key; a convenant's keys are names only, and
      // such a key would otherwise be turned into text by the YAML reader with a warning.
      for (const pair of node.items) {
        if (isScalar(pair.key) || pair.key === null) continue;
        found.push({
          severity: 'error',
          code: 'complex-key',
          message:
            "A key here is a list or a map, not a name; a '? ' at the start of a line makes one. Keys in a convenant are plain names followed by a colon.",
          position: at(pair.key),
        });
      }
    }
    if (depth > MAX_DEPTH) {
      return [
        {
          severity: 'error',
          code: 'too-deeply-nested',
          message: `This file nests lists and maps more than ${MAX_DEPTH} levels deep here; a convenant needs about eight. Check the indentation and the brackets.`,
          position: at(node),
        },
      ];
    }
    const children: unknown[] = isMap(node)
      ? node.items.flatMap((pair) => [pair.key, pair.value])
      : node.items;
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], depth: depth + 1 });
  }
  return found;
}

/** What the YAML reader's error codes mean, said for someone who edits the file by hand. */
const YAML_ERRORS: Record<string, string> = {
  BAD_INDENT:
    'The indentation is off here. Keys of the same map start in the same column, and what belongs to a key is indented further than the key.',
  TAB_AS_INDENT: 'This line is indented with a tab; YAML allows only spaces. Replace the tab by spaces.',
  MISSING_CHAR: 'Something opened earlier is not closed here: a quote, ] or } is missing.',
  MULTILINE_IMPLICIT_KEY:
    'A key must fit on one line and end with a colon; a colon or a closing quote may be missing above.',
  BLOCK_AS_IMPLICIT_KEY:
    'A key must fit on one line and end with a colon; a colon or a closing quote may be missing above.',
  BAD_SCALAR_START:
    'A value cannot start with this character (such as @, ` or %); put the whole value in quotes.',
  BAD_DQ_ESCAPE:
    'A backslash inside double quotes starts an escape that does not exist; use single quotes, or write two backslashes.',
  KEY_OVER_1024_CHARS:
    'This key is longer than 1024 characters; probably a colon is missing after a shorter key.',
  UNEXPECTED_TOKEN:
    'This character is not expected here; check the line above for a missing colon, dash or quote.',
  BLOCK_IN_FLOW:
    'An indented block cannot stand inside [ ] or { }; write the list or map fully inside the brackets, or drop the brackets.',
  MULTIPLE_ANCHORS: 'A value can carry one &mark only.',
  MULTIPLE_TAGS: 'A value can carry one !tag only.',
  TAG_RESOLVE_FAILED: 'This value has a !tag the convenant format does not know; remove the tag.',
  BAD_DIRECTIVE:
    'Lines starting with % are YAML directives, which a convenant file does not use; remove the line.',
};

export function syntaxDiagnostics(source: SourceFile): Diagnostic[] {
  // The reader gives up on nesting too deep for it; what it says after that is only an echo.
  const exhausted = source.doc.errors.find((e) => e.code === 'RESOURCE_EXHAUSTION');
  const errors = (exhausted ? [exhausted] : source.doc.errors).map((e): Diagnostic => {
    const position = offsetPosition(source, e.pos[0]);
    if (e.code === 'DUPLICATE_KEY') {
      // The error marks only the key's first character; the key runs to the colon.
      const key = /^\s*("[^"\n]*"|'[^'\n]*'|[^:\n]*?)\s*:/.exec(source.text.slice(e.pos[0]))?.[1] ?? 'A key';
      return {
        severity: 'error',
        code: 'duplicate-key',
        message: `'${key}' is given twice in the same map; give each key once.`,
        position,
      };
    }
    if (e.code === 'MULTIPLE_DOCS') {
      return {
        severity: 'error',
        code: 'multiple-documents',
        message:
          "A second YAML document starts here (a line '---' or '...'); a convenant file holds one. Remove the line, or move what follows into a file of its own.",
        position,
      };
    }
    if (e.code === 'RESOURCE_EXHAUSTION') {
      return {
        severity: 'error',
        code: 'too-deeply-nested',
        message:
          'This file nests lists and maps too deeply to be read; a convenant needs about eight levels. Check the indentation and the brackets.',
        position,
      };
    }
    const explained = YAML_ERRORS[e.code];
    return {
      severity: 'error',
      code: 'yaml-syntax',
      message: `This is not valid YAML: ${explained ? `${explained} (${sentence(e.message)})` : sentence(e.message)}`,
      position,
    };
  });
  const warnings = source.doc.warnings.map((w): Diagnostic => ({
    severity: 'warning',
    code: 'yaml-warning',
    message: sentence(w.message),
    position: offsetPosition(source, w.pos[0]),
  }));
  return [...errors, ...warnings, ...(source.refused ?? [])];
}

function offsetPosition(source: SourceFile, offset: number): SourcePosition {
  const { line, col } = source.lines.linePos(offset);
  return { file: source.path, line, column: col };
}

/**
 * Position of the node at `path`. 'auto' points at a scalar value (`partner: wijktem` → at
 * `wijktem`) but at the key when the value is a block or flow collection or empty, because the
 * key is what names the thing; 'key' always prefers the key (for unknown keys). A path that does
 * not resolve fully points at its deepest existing node, so a position is always available.
 */
export function positionOf(
  source: SourceFile,
  path: readonly (string | number)[],
  prefer: 'auto' | 'key',
): SourcePosition {
  let node: unknown = source.doc.contents;
  let key: unknown;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      key = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      key = undefined;
      node = node.items[segment];
    } else {
      break;
    }
  }
  const keyRange = rangeOf(key);
  // A list item that is a map is named by its first key, in flow style (`- { id: x }`) as in block style.
  const valueRange = (isMap(node) ? rangeOf(node.items[0]?.key) : undefined) ?? rangeOf(node);
  const valueIsPlainScalar = isScalar(node) && node.value !== null;
  const useKey = keyRange && (prefer === 'key' || !valueIsPlainScalar || !valueRange);
  const range = useKey ? keyRange : (valueRange ?? keyRange);
  return range ? offsetPosition(source, range[0]) : { file: source.path, line: 1, column: 1 };
}

function rangeOf(node: unknown): readonly [number, number, number] | undefined {
  if (typeof node !== 'object' || node === null || !('range' in node)) return undefined;
  const range: unknown = node.range;
  return Array.isArray(range) && typeof range[0] === 'number'
    ? (range as [number, number, number])
    : undefined;
}
