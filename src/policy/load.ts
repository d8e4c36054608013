/**
 * Loads a convenant folder into the Convenant model, in three stages, each reporting every
 * problem it finds before giving up:
 *  1. parse each YAML file, keeping every node's position (syntax errors);
 *  2. check each file against policies/convenant.schema.json (schema errors, as plain sentences);
 *  3. merge the files into one model (metadata given once, can/cannot exclusive).
 * Semantic checks (unknown ids, legal bases, shadowed rules) are in validate.ts; they need the
 * merged model, so they only run when the first two stages found nothing.
 */
import { isUtf8 } from 'node:buffer';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative } from 'node:path';
import { Ajv, type DefinedError } from 'ajv';
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import schema from '../../policies/convenant.schema.json' with { type: 'json' };
import {
  ACTIONS,
  FIELD_LEVELS,
  FIELD_TYPES,
  PERSON_ROLES,
  PHASES,
  SENSITIVITIES,
  type Action,
  type CaseFlag,
  type CatalogueField,
  type Convenant,
  type Diagnostic,
  type FieldLevel,
  type FieldRef,
  type FieldType,
  type LegalBasis,
  type Partner,
  type PersonRole,
  type Phase,
  type PolicyTest,
  type Purpose,
  type Rule,
  type RuleWhen,
  type Section,
  type Sensitivity,
  type SourcePosition,
  type SourceRef,
} from './model.js';

export interface LoadResult {
  /** The merged model; null when a file could not be read, parsed or matched to the schema. */
  convenant: Convenant | null;
  diagnostics: Diagnostic[];
  /**
   * Resolves a model object's `src` to a 1-based line and column in its file. A property, not a
   * method, so it can be passed around on its own (it uses no `this`).
   */
  locate: (src: SourceRef) => SourcePosition;
}

type YamlPath = (string | number)[];

// ---------------------------------------------------------------------------------------------
// The YAML shape after schema validation (snake_case, as jurists write it)
// ---------------------------------------------------------------------------------------------

type OneOrMany<T> = T | T[];

interface RawFile {
  convenant?: string;
  title?: string;
  version?: string;
  effective_from?: string;
  case_flags?: Record<string, { description?: string }>;
  legal_bases?: Record<string, RawLegalBasis>;
  partners?: RawPartner[];
  purposes?: RawPurpose[];
  catalogue?: Record<string, RawSection>;
  rules?: RawRule[];
  tests?: RawTest[];
}

interface RawLegalBasis {
  citation: string;
  description?: string;
  permits: Sensitivity[];
  applies_to?: string[];
  exception?: string;
}

interface RawPartner {
  id: string;
  name: string;
  kind: string;
  purposes: string[];
  keys?: string;
  jwks_uri?: string;
  contact?: string;
}

interface RawPurpose {
  id: string;
  name: string;
  description?: string;
  legal_bases: string[];
  retention: string;
  log_retention?: string;
  emergency_access?: { allowed: boolean; window?: string };
  involvement_matches?: boolean;
  field_history?: boolean;
  after_closing?: string;
}

interface RawSection {
  description?: string;
  fields?: Record<string, RawField>;
}

interface RawField {
  sensitivity: Sensitivity;
  level?: FieldLevel;
  type?: FieldType;
  values?: string[];
  description?: string;
}

interface RawRule {
  id: string;
  partner?: OneOrMany<string>;
  partner_kind?: OneOrMany<string>;
  purpose: OneOrMany<string>;
  can?: OneOrMany<Action>;
  cannot?: OneOrMany<Action>;
  fields?: string[];
  when?: {
    participant?: true | 'any';
    phase?: OneOrMany<Phase>;
    'person.role'?: OneOrMany<PersonRole>;
    'case.flag'?: OneOrMany<string>;
    emergency?: true;
  };
  legal_basis?: OneOrMany<string>;
  reason: string;
}

interface RawTest {
  name: string;
  as: { partner: string; purpose: string };
  case: { phase: Phase; participant?: boolean; flags?: string[]; emergency?: boolean };
  person?: { role: PersonRole };
  expect: {
    read?: string[];
    write?: string[];
    deny?: string[];
    deny_write?: string[];
    manage?: boolean;
    involvement_matches?: boolean;
    field_history?: boolean;
  };
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** Loads a convenant from in-memory files (already in merge order). Pure: no I/O. */
export function loadConvenantSources(dir: string, files: { path: string; text: string }[]): LoadResult {
  const sources = files.map((f) => parseSource(f.path, f.text));
  const locate = (src: SourceRef): SourcePosition => {
    const source = sources.find((s) => s.path === src.file);
    return source ? positionOf(source, src.path, 'auto') : { file: src.file, line: 1, column: 1 };
  };
  const diagnostics: Diagnostic[] = [];
  if (files.length === 0) {
    diagnostics.push({
      severity: 'error',
      code: 'empty-folder',
      message: `The folder '${dir}' holds no convenant files (*.yaml or *.yml).`,
    });
    return { convenant: null, diagnostics, locate };
  }

  const valid: { source: SourceFile; raw: RawFile }[] = [];
  for (const source of sources) {
    const syntax = syntaxDiagnostics(source);
    diagnostics.push(...syntax);
    // Schema errors on a document that did not parse would mostly echo the syntax error.
    if (syntax.some((d) => d.severity === 'error')) continue;
    const checked = checkAgainstSchema(source);
    diagnostics.push(...checked.diagnostics);
    if (checked.raw) valid.push({ source, raw: checked.raw });
  }
  if (valid.length < sources.length)
    return { convenant: null, diagnostics: sortDiagnostics(diagnostics), locate };

  const merged = mergeFiles(dir, valid);
  diagnostics.push(...merged.diagnostics);
  return { convenant: merged.convenant, diagnostics: sortDiagnostics(diagnostics), locate };
}

/** Reads `*.yaml` / `*.yml` in `dir` (not recursively), sorted by name, and loads them. */
export function loadConvenantDir(dir: string): LoadResult {
  const read = readConvenantFolder(dir);
  if (!read.files) return { convenant: null, diagnostics: read.diagnostics, locate: read.locate };
  const result = loadConvenantSources(read.shown, read.files);
  if (read.diagnostics.length === 0) return result;
  return {
    convenant: null,
    diagnostics: [...read.diagnostics, ...result.diagnostics],
    locate: result.locate,
  };
}

export interface ConvenantFolder {
  /** The folder as shown in diagnostics (relative to the working directory where possible). */
  shown: string;
  /** The YAML files in merge order, with their text; absent when the folder cannot be read. */
  files?: { path: string; text: string }[];
  /** Folder-level and unreadable-file errors. */
  diagnostics: Diagnostic[];
  locate: LoadResult['locate'];
}

/**
 * Reads the folder's YAML files once, so that a caller that keeps the text (the gateway records
 * it per version) keeps exactly the text it compiled, even if the files change meanwhile.
 */
export function readConvenantFolder(dir: string): ConvenantFolder {
  const shown = displayPath(dir);
  const noFile: LoadResult['locate'] = (src) => ({ file: src.file, line: 1, column: 1 });
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) {
      return {
        shown,
        diagnostics: [folderError('not-a-folder', `'${shown}' is a file, not a convenant folder.`)],
        locate: noFile,
      };
    }
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch {
    return {
      shown,
      diagnostics: [
        folderError('missing-folder', `The convenant folder '${shown}' does not exist or cannot be read.`),
      ],
      locate: noFile,
    };
  }
  const files: { path: string; text: string }[] = [];
  const unreadable: Diagnostic[] = [];
  for (const name of names) {
    const path = join(shown, name);
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, name));
    } catch {
      unreadable.push({
        severity: 'error',
        code: 'unreadable-file',
        message: `The file '${path}' cannot be read.`,
        position: { file: path, line: 1, column: 1 },
      });
      continue;
    }
    const decoded = decodeConvenantFile(path, bytes);
    if ('text' in decoded) files.push({ path, text: decoded.text });
    else unreadable.push(decoded.diagnostic);
  }
  return { shown, files, diagnostics: unreadable, locate: noFile };
}

/**
 * A convenant file's bytes as text. Only UTF-8 is accepted: decoding anything else "leniently"
 * would turn a Windows-1252 `é` into U+FFFD in the enforced and rendered convenant, unnoticed.
 */
export function decodeConvenantFile(
  path: string,
  bytes: Uint8Array,
): { text: string } | { diagnostic: Diagnostic } {
  const refuse = (line: number, column: number, message: string) => ({
    diagnostic: {
      severity: 'error' as const,
      code: 'not-utf8',
      message,
      position: { file: path, line, column },
    },
  });
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return refuse(
      1,
      1,
      'This file is saved as UTF-16; convenant files must be UTF-8. Save it again with the encoding UTF-8.',
    );
  }
  if (isUtf8(bytes)) return { text: new TextDecoder('utf-8').decode(bytes) };
  const offset = firstInvalidUtf8(bytes);
  const before = new TextDecoder('utf-8').decode(bytes.subarray(0, offset));
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  const byte = bytes[offset] ?? 0;
  const hex = byte.toString(16).toUpperCase().padStart(2, '0');
  // The usual culprit is an editor saving in Windows-1252 (Latin-1): say which letter was meant.
  const meant = new TextDecoder('windows-1252').decode(Uint8Array.of(byte));
  return refuse(
    line,
    before.length - lineStart + 1,
    `This file is not UTF-8 text: byte 0x${hex} here cannot be read${/\p{L}/u.test(meant) ? ` (in Windows-1252 it would be '${meant}', so the file was probably saved in that encoding)` : ''}. Save the file again with the encoding UTF-8.`,
  );
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const extra =
      lead >= 0xc2 && lead <= 0xdf
        ? 1
        : lead >= 0xe0 && lead <= 0xef
          ? 2
          : lead >= 0xf0 && lead <= 0xf4
            ? 3
            : 0;
    if (extra === 0) return i;
    // RFC 3629 table 3-7: these leads narrow the second byte (no overlongs, no surrogates).
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= extra; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += extra + 1;
  }
  return bytes.length;
}

/**
 * The candidate closest to `word` by edit distance, if close enough to be a plausible typo
 * (at most a third of the word's letters wrong). Used for "did you mean …?" hints.
 */
function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** ` Did you mean 'x'?` when a close match exists, else ''; appended after a full sentence. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closestMatch(word, candidates);
  return match === undefined || match === word ? '' : ` Did you mean '${match}'?`;
}

// ---------------------------------------------------------------------------------------------
// Stage 1: parsing with positions
// ---------------------------------------------------------------------------------------------

interface SourceFile {
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
const MAX_ALIAS_COUNT = 100;

function parseSource(path: string, text: string): SourceFile {
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

function syntaxDiagnostics(source: SourceFile): Diagnostic[] {
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
function positionOf(
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

// ---------------------------------------------------------------------------------------------
// Stage 2: schema validation, with ajv's errors turned into sentences
// ---------------------------------------------------------------------------------------------

// verbose: errors carry their schema node, whose description and keys make the sentences.
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false });
const validateFile = ajv.compile<RawFile>(schema);

/** An ISO-8601 duration (P5Y, PT60M), the same pattern the schema uses. */
export const ISO_8601_DURATION = new RegExp(schema.definitions.duration.pattern);

/** Names for the enums of the format, so an enum error says what kind of value was expected. */
const ENUM_NOUNS: [readonly unknown[], string][] = [
  [SENSITIVITIES, 'a sensitivity'],
  [ACTIONS, 'an action'],
  [PHASES, 'a phase'],
  [PERSON_ROLES, 'a person role'],
  [FIELD_TYPES, 'a field type'],
  [FIELD_LEVELS, 'a field level'],
];

function checkAgainstSchema(source: SourceFile): { raw: RawFile | null; diagnostics: Diagnostic[] } {
  // An empty file (or one holding only comments) contributes nothing; that is not an error.
  let data: unknown = {};
  try {
    if (source.doc.contents !== null) data = source.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml throws (a ReferenceError) when aliases expand past the limit: an alias bomb.
    return {
      raw: null,
      diagnostics: [
        {
          severity: 'error',
          code: 'too-many-aliases',
          message: `This file repeats marked values ('&name' … '*name') so often that reading it would take too much memory (more than ${MAX_ALIAS_COUNT} repetitions), so it is refused. Write the values out instead. (${sentence(error instanceof Error ? error.message : String(error))})`,
          position: source.firstAlias ?? { file: source.path, line: 1, column: 1 },
        },
      ],
    };
  }
  if (validateFile(data)) return { raw: data, diagnostics: [] };
  const errors = relevantErrors((validateFile.errors ?? []) as DefinedError[], data);
  return { raw: null, diagnostics: errors.map((e) => schemaDiagnostic(e, source, data)) };
}

/**
 * Drops ajv's noise: `if` errors (their `then` errors say what is wrong), errors inside
 * `propertyNames` (reported once, at the key), and the branches of an `anyOf` that do not fit
 * the value's type (`partner: 3` fails both "an id" and "a list"; saying "must be a list"
 * would mislead). An `anyOf` error itself is kept only when no branch explains the problem.
 */
function relevantErrors(errors: DefinedError[], data: unknown): DefinedError[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const kept = errors.filter((e) => {
    if (e.keyword === 'if' || e.propertyName !== undefined) return false;
    // A key choice's branches ("keys is required", "jwks_uri is required") are said once, by the choice.
    if (e.keyword === 'required' && /\/anyOf\/\d+\/required$/.test(e.schemaPath)) return false;
    if (e.keyword !== 'anyOf' && anyOfPaths.has(e.instancePath))
      return branchFitsValue(e, valueAt(data, toYamlPath(e.instancePath, data)));
    return true;
  });
  return kept.filter(
    (e) =>
      e.keyword !== 'anyOf' ||
      !kept.some(
        (o) =>
          o !== e && (o.instancePath === e.instancePath || o.instancePath.startsWith(`${e.instancePath}/`)),
      ),
  );
}

function branchFitsValue(e: DefinedError, value: unknown): boolean {
  switch (e.keyword) {
    case 'type':
      return false;
    case 'enum':
    case 'const':
    case 'pattern':
    case 'minLength':
      return typeof value === 'string';
    case 'minItems':
    case 'uniqueItems':
      return Array.isArray(value);
    default:
      return true;
  }
}

function schemaDiagnostic(e: DefinedError, source: SourceFile, data: unknown): Diagnostic {
  const path = toYamlPath(e.instancePath, data);
  const at = (p: YamlPath, prefer: 'auto' | 'key' = 'auto'): SourcePosition => positionOf(source, p, prefer);
  const err = (code: string, message: string, position: SourcePosition): Diagnostic => ({
    severity: 'error',
    code,
    message,
    position,
  });
  const value = valueAt(data, path);
  const place = describePlace(path, data);

  switch (e.keyword) {
    case 'required': {
      const missing = e.params.missingProperty;
      // `values` is required by the schema's if/then on enum fields, which has no description.
      if (missing === 'values')
        return err(
          'missing-key',
          `${capitalise(place)} has type enum, so it must list its allowed 'values'.`,
          at(path),
        );
      // `exception` is required by the schema's if/then on legal bases, which has no description.
      if (missing === 'exception')
        return err(
          'missing-key',
          `${capitalise(place)} permits health or criminal-law data, so it must name the exception it uses in 'exception': the AVG art. 9 lid 2 or art. 10 ground with its UAVG article (e.g. AVG art. 9 lid 2 sub h jo. UAVG art. 30 lid 3).`,
          at(path),
        );
      const hint = propertyDescription(e.parentSchema, missing);
      return err(
        'missing-key',
        `${capitalise(place)} is missing '${missing}'.${hint ? ` ${hint}` : ''}`,
        at(path),
      );
    }
    case 'additionalProperties': {
      const unknown = e.params.additionalProperty;
      const known = Object.keys(propertiesOf(e.parentSchema));
      const owner = path.length === 0 ? 'The file' : capitalise(describePlace(path, data));
      return err(
        'unknown-key',
        `${owner} has an unknown key '${unknown}'.${didYouMean(unknown, known)} Known keys: ${known.join(', ')}.`,
        at([...path, unknown], 'key'),
      );
    }
    case 'propertyNames': {
      const name = e.params.propertyName;
      const inPlace = path.length > 1 ? ` in ${describePlace(path.slice(0, -1), data)}` : '';
      return err(
        'invalid-name',
        `'${name}' is not a valid ${nameNoun(path)}${inPlace}. Expected ${lowerFirst(schema.definitions.id.description)}`,
        at([...path, name], 'key'),
      );
    }
    case 'type':
      return err(
        'wrong-type',
        `${capitalise(place)} must be ${typeWords(e.params.type)}, not ${valueWords(value)}.${quoteHint(e.params.type, source, path)}`,
        at(path),
      );
    case 'enum': {
      const allowed = e.params.allowedValues.map(String);
      const noun = ENUM_NOUNS.find(([values]) => sameValues(values, e.params.allowedValues))?.[1];
      const shown = String(value);
      return noun
        ? err(
            'invalid-value',
            `'${shown}' is not ${noun}; use one of: ${allowed.join(', ')}.${didYouMean(shown, allowed)}`,
            at(path),
          )
        : err(
            'invalid-value',
            `${capitalise(place)} must be ${alternatives(allowed)}, not '${shown}'.`,
            at(path),
          );
    }
    case 'const':
      return err(
        'invalid-value',
        `${capitalise(place)} can only be ${String(e.params.allowedValue)}; leave it out otherwise.`,
        at(path),
      );
    case 'pattern':
      return err(
        'invalid-value',
        `'${String(value)}' is not valid for ${place}. Expected ${lowerFirst(descriptionOf(e.parentSchema) ?? `text matching ${e.params.pattern}.`)}`,
        at(path),
      );
    case 'anyOf': {
      const keys = keyChoice(e.schema);
      if (keys) {
        const [code, message] = KEY_CHOICES[keys.join('|')]?.none ?? [
          'missing-key',
          (owner: string) => `${owner} needs one of ${alternatives(keys.map((k) => `'${k}'`))}.`,
        ];
        return err(code, message(capitalise(place)), at(path));
      }
      return err(
        'wrong-type',
        `${capitalise(place)} has the wrong form (${valueWords(value)}). Expected ${lowerFirst(descriptionOf(e.parentSchema) ?? 'another form.')}`,
        at(path),
      );
    }
    case 'not': {
      const both =
        isRecord(e.schema) && Array.isArray(e.schema.required) ? e.schema.required.map(String) : [];
      const [code, message] = KEY_CHOICES[both.join('|')]?.both ?? [
        'conflicting-keys',
        (owner: string) => `${owner} gives ${both.map((k) => `'${k}'`).join(' and ')}; give only one.`,
      ];
      return err(code, message(capitalise(place)), at([...path, both.at(-1) ?? '']));
    }
    case 'minItems':
      return err(
        'empty-value',
        `${capitalise(place)} must list at least ${e.params.limit} item${e.params.limit === 1 ? '' : 's'}.`,
        at(path),
      );
    case 'minLength':
      return err('empty-value', `${capitalise(place)} must not be empty.`, at(path));
    case 'uniqueItems': {
      const item: unknown = Array.isArray(value) ? (value as unknown[])[e.params.i] : undefined;
      return err(
        'duplicate-item',
        `${capitalise(place)} lists '${String(item)}' twice.`,
        at([...path, e.params.i]),
      );
    }
    default:
      return err(
        'schema',
        `${capitalise(place)}: ${e.message ?? 'does not match the convenant format'}.`,
        at(path),
      );
  }
}

/**
 * The schema says "give one of these keys" as `anyOf: [{ required: [a] }, { required: [b] }]`
 * and "not both" as `not: { required: [a, b] }`, so editors flag it too; these are the sentences.
 */
const KEY_CHOICES: Record<string, { none: KeyChoiceMessage; both: KeyChoiceMessage }> = {
  'keys|jwks_uri': {
    none: [
      'partner-without-keys',
      (owner) =>
        `${owner} has no public keys, so none of its tokens can be verified. Add 'keys' (a JWKS file) or 'jwks_uri'.`,
    ],
    both: [
      'partner-keys-and-jwks-uri',
      (owner) => `${owner} has both 'keys' and 'jwks_uri'; give one, so it is clear which keys are trusted.`,
    ],
  },
};
type KeyChoiceMessage = [code: string, message: (owner: string) => string];

/** The keys of an `anyOf` whose every branch only requires one key, else undefined. */
function keyChoice(branches: unknown): string[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const keys = branches.map((b: unknown) =>
    isRecord(b) && Object.keys(b).length === 1 && Array.isArray(b.required) && b.required.length === 1
      ? String(b.required[0])
      : undefined,
  );
  return keys.every((k) => k !== undefined) ? keys : undefined;
}

/** ajv's JSON pointer as a YAML path: list indexes become numbers. */
function toYamlPath(pointer: string, data: unknown): YamlPath {
  if (pointer === '') return [];
  const path: YamlPath = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(segment);
      path.push(index);
      node = node[index];
    } else {
      path.push(segment);
      node = isRecord(node) ? node[segment] : undefined;
    }
  }
  return path;
}

function valueAt(data: unknown, path: YamlPath): unknown {
  let node = data;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isRecord(node)) node = node[String(segment)];
    else return undefined;
  }
  return node;
}

/** The things a jurist recognises (a partner, a rule, a field…) and how to name them. */
function entityLabel(path: YamlPath, data: unknown): { label: string; length: number } | undefined {
  const [top, second, third, fourth] = path;
  const named = (kind: string, key: string): string => {
    const item = valueAt(data, path.slice(0, 2));
    const id = isRecord(item) ? item[key] : undefined;
    return typeof id === 'string' ? `${kind} '${id}'` : `${kind} ${Number(second) + 1}`;
  };
  if (typeof second === 'number') {
    if (top === 'partners') return { label: named('partner', 'id'), length: 2 };
    if (top === 'purposes') return { label: named('purpose', 'id'), length: 2 };
    if (top === 'rules') return { label: named('rule', 'id'), length: 2 };
    if (top === 'tests') return { label: named('test', 'name'), length: 2 };
  }
  if (typeof second === 'string') {
    if (top === 'catalogue' && third === 'fields' && typeof fourth === 'string')
      return { label: `field '${second}.${fourth}'`, length: 4 };
    if (top === 'catalogue') return { label: `section '${second}'`, length: 2 };
    if (top === 'legal_bases') return { label: `legal basis '${second}'`, length: 2 };
    if (top === 'case_flags') return { label: `case flag '${second}'`, length: 2 };
  }
  return undefined;
}

/** "rule 'x'", "'when.phase' in rule 'x'", "'version'", "item 2 of 'partners'". */
function describePlace(path: YamlPath, data: unknown): string {
  if (path.length === 0) return 'the file';
  const entity = entityLabel(path, data);
  const rest = path.slice(entity?.length ?? 0);
  const keys = rest.filter((s): s is string => typeof s === 'string');
  const last = rest[rest.length - 1];
  if (!entity) {
    return typeof last === 'number' ? `item ${last + 1} of '${keys.join('.')}'` : `'${keys.join('.')}'`;
  }
  if (keys.length === 0) return entity.label;
  return `'${keys.join('.')}' in ${entity.label}`;
}

function nameNoun(path: YamlPath): string {
  const last = path[path.length - 1];
  if (last === 'catalogue') return 'section name';
  if (last === 'fields') return 'field name';
  if (last === 'legal_bases') return 'legal basis id';
  if (last === 'case_flags') return 'case flag id';
  return 'name';
}

function typeWords(type: string | string[]): string {
  const words: Record<string, string> = {
    string: 'text',
    array: 'a list',
    object: 'a map of keys and values',
    boolean: 'true or false',
    number: 'a number',
    integer: 'a whole number',
    null: 'empty',
  };
  return (Array.isArray(type) ? type : [type]).map((t) => words[t] ?? t).join(' or ');
}

/** The offending value in words: scalars quoted as written, collections by their kind. */
function valueWords(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'boolean') return `${value}`;
  if (typeof value === 'number') return `the number ${value}`;
  return 'a map of keys and values';
}

/** YAML reads `version: 2026.10` as the number 2026.1; tell the jurist to quote it. */
function quoteHint(expected: string | string[], source: SourceFile, path: YamlPath): string {
  if (expected !== 'string') return '';
  const node = source.doc.getIn(path, true);
  if (!isScalar(node) || (typeof node.value !== 'number' && typeof node.value !== 'boolean')) return '';
  const text = node.source ?? String(node.value);
  return ` Put it in quotes ("${text}") so it is read as text.`;
}

function propertiesOf(schemaNode: unknown): Record<string, unknown> {
  if (!isRecord(schemaNode) || !isRecord(schemaNode.properties)) return {};
  return schemaNode.properties;
}

function propertyDescription(schemaNode: unknown, property: string): string | undefined {
  return descriptionOf(propertiesOf(schemaNode)[property]);
}

function descriptionOf(schemaNode: unknown): string | undefined {
  return isRecord(schemaNode) && typeof schemaNode.description === 'string'
    ? schemaNode.description
    : undefined;
}

/** "true or any", "a, b or c", or "one of: …" for longer lists. */
function alternatives(values: readonly string[]): string {
  const last = values[values.length - 1];
  if (values.length > 3) return `one of: ${values.join(', ')}`;
  return values.length > 1 && last !== undefined
    ? `${values.slice(0, -1).join(', ')} or ${last}`
    : values.join('');
}

function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v) => b.includes(v));
}

// ---------------------------------------------------------------------------------------------
// Stage 3: merging the files into the model
// ---------------------------------------------------------------------------------------------

interface Merged {
  convenant: Convenant | null;
  diagnostics: Diagnostic[];
}

function mergeFiles(dir: string, files: { source: SourceFile; raw: RawFile }[]): Merged {
  const diagnostics: Diagnostic[] = [];
  const at = (file: SourceFile, path: YamlPath, prefer: 'auto' | 'key' = 'auto'): SourcePosition =>
    positionOf(file, path, prefer);

  const metadata = (
    key: 'convenant' | 'title' | 'version' | 'effective_from',
    required: boolean,
  ): string | undefined => {
    const given = files.flatMap(({ source, raw }) =>
      raw[key] === undefined ? [] : [{ source, value: raw[key] }],
    );
    const [first, ...others] = given;
    if (!first) {
      if (required) {
        const firstFile = files[0]?.source.path ?? dir;
        diagnostics.push({
          severity: 'error',
          code: 'missing-metadata',
          message: `No file gives '${key}'. Add it once, e.g. in the first file.`,
          position: { file: firstFile, line: 1, column: 1 },
        });
      }
      return undefined;
    }
    for (const other of others.filter((o) => o.value !== first.value)) {
      const firstAt = at(first.source, [key]);
      diagnostics.push({
        severity: 'error',
        code: 'conflicting-metadata',
        message: `'${key}' is '${other.value}' here but '${first.value}' at ${formatPosition(firstAt)}; give it once, or the same in every file.`,
        position: at(other.source, [key]),
      });
    }
    return first.value;
  };

  const id = metadata('convenant', true);
  const title = metadata('title', true);
  const version = metadata('version', true);
  const effectiveFrom = metadata('effective_from', false);
  const folder = basename(dir);
  const idFile = files.find((f) => f.raw.convenant !== undefined)?.source;
  if (id !== undefined && idFile && folder !== '' && folder !== id) {
    diagnostics.push({
      severity: 'error',
      code: 'convenant-id-mismatch',
      message: `The convenant id '${id}' differs from its folder name '${folder}'; they must be equal so the folder names the convenant.`,
      position: at(idFile, ['convenant']),
    });
  }

  const rules: Rule[] = [];
  let rulesComplete = true;
  for (const { source, raw } of files) {
    for (const [index, rawRule] of (raw.rules ?? []).entries()) {
      const built = buildRule(source.path, index, rawRule);
      if ('rule' in built) rules.push(built.rule);
      else {
        rulesComplete = false;
        diagnostics.push({
          ...built.problem,
          position: at(source, ['rules', index, ...built.problem.path], 'key'),
        });
      }
    }
  }
  // A rule whose effect is unclear cannot be modelled: dropping it could silently remove a deny.
  if (!rulesComplete || id === undefined || title === undefined || version === undefined)
    return { convenant: null, diagnostics };

  const sections = mergeSections(files);
  const convenant: Convenant = {
    id,
    title,
    version,
    ...(effectiveFrom === undefined ? {} : { effectiveFrom }),
    dir,
    files: files.map((f) => f.source.path),
    caseFlags: files.flatMap(({ source, raw }) => buildCaseFlags(source.path, raw)),
    legalBases: files.flatMap(({ source, raw }) => buildLegalBases(source.path, raw)),
    partners: files.flatMap(({ source, raw }) =>
      (raw.partners ?? []).map((p, i) => buildPartner(source.path, i, p)),
    ),
    purposes: files.flatMap(({ source, raw }) =>
      (raw.purposes ?? []).map((p, i) => buildPurpose(source.path, i, p)),
    ),
    sections,
    fields: sections.flatMap((s) => s.fields),
    rules,
    tests: files.flatMap(({ source, raw }) => (raw.tests ?? []).map((t, i) => buildTest(source.path, i, t))),
  };
  diagnostics.push(...sectionDescriptionConflicts(files));
  return { convenant, diagnostics };
}

function buildCaseFlags(file: string, raw: RawFile): CaseFlag[] {
  return Object.entries(raw.case_flags ?? {}).map(([id, flag]) => ({
    id,
    ...(flag.description === undefined ? {} : { description: flag.description }),
    src: { file, path: ['case_flags', id] },
  }));
}

function buildLegalBases(file: string, raw: RawFile): LegalBasis[] {
  return Object.entries(raw.legal_bases ?? {}).map(([id, basis]) => ({
    id,
    citation: basis.citation,
    ...(basis.description === undefined ? {} : { description: basis.description }),
    permits: basis.permits,
    ...(basis.applies_to === undefined ? {} : { appliesTo: basis.applies_to }),
    ...(basis.exception === undefined ? {} : { exception: basis.exception }),
    src: { file, path: ['legal_bases', id] },
  }));
}

function buildPartner(file: string, index: number, raw: RawPartner): Partner {
  return {
    id: raw.id,
    name: raw.name,
    kind: raw.kind,
    purposes: raw.purposes,
    keys: {
      ...(raw.keys === undefined ? {} : { jwksFile: raw.keys }),
      ...(raw.jwks_uri === undefined ? {} : { jwksUri: raw.jwks_uri }),
    },
    ...(raw.contact === undefined ? {} : { contact: raw.contact }),
    src: { file, path: ['partners', index] },
  };
}

function buildPurpose(file: string, index: number, raw: RawPurpose): Purpose {
  const window = raw.emergency_access?.window;
  return {
    id: raw.id,
    name: raw.name,
    description: raw.description ?? '',
    legalBases: raw.legal_bases,
    retention: raw.retention,
    ...(raw.log_retention === undefined ? {} : { logRetention: raw.log_retention }),
    emergencyAccess: {
      allowed: raw.emergency_access?.allowed ?? false,
      ...(window === undefined ? {} : { window }),
    },
    involvementMatches: raw.involvement_matches ?? false,
    fieldHistory: raw.field_history ?? false,
    ...(raw.after_closing === undefined ? {} : { afterClosing: raw.after_closing }),
    src: { file, path: ['purposes', index] },
  };
}

/**
 * Sections may be spread over files (a partner's file can add its own section); their fields
 * are concatenated in file order. A field given twice stays twice here so that validation can
 * report both places.
 */
function mergeSections(files: { source: SourceFile; raw: RawFile }[]): Section[] {
  const sections = new Map<string, Section>();
  for (const { source, raw } of files) {
    for (const [sectionId, rawSection] of Object.entries(raw.catalogue ?? {})) {
      let section = sections.get(sectionId);
      if (!section) {
        section = {
          id: sectionId,
          ...(rawSection.description === undefined ? {} : { description: rawSection.description }),
          fields: [],
          src: { file: source.path, path: ['catalogue', sectionId] },
        };
        sections.set(sectionId, section);
      } else if (section.description === undefined && rawSection.description !== undefined) {
        section.description = rawSection.description;
      }
      for (const [name, field] of Object.entries(rawSection.fields ?? {})) {
        section.fields.push(buildField(source.path, sectionId, name, field));
      }
    }
  }
  return [...sections.values()];
}

function buildField(file: string, section: string, name: string, raw: RawField): CatalogueField {
  return {
    id: `${section}.${name}`,
    section,
    name,
    ...(raw.description === undefined ? {} : { description: raw.description }),
    sensitivity: raw.sensitivity,
    level: raw.level ?? 'case',
    type: raw.type ?? 'string',
    ...(raw.values === undefined ? {} : { values: raw.values }),
    src: { file, path: ['catalogue', section, 'fields', name] },
  };
}

function sectionDescriptionConflicts(files: { source: SourceFile; raw: RawFile }[]): Diagnostic[] {
  const first = new Map<string, { source: SourceFile; description: string }>();
  const diagnostics: Diagnostic[] = [];
  for (const { source, raw } of files) {
    for (const [sectionId, section] of Object.entries(raw.catalogue ?? {})) {
      if (section.description === undefined) continue;
      const earlier = first.get(sectionId);
      if (!earlier) first.set(sectionId, { source, description: section.description });
      else if (earlier.description !== section.description) {
        diagnostics.push({
          severity: 'error',
          code: 'conflicting-section-description',
          message: `Section '${sectionId}' is described differently at ${formatPosition(positionOf(earlier.source, ['catalogue', sectionId, 'description'], 'auto'))}; describe it once.`,
          position: positionOf(source, ['catalogue', sectionId, 'description'], 'auto'),
        });
      }
    }
  }
  return diagnostics;
}

/** A rule that cannot be modelled, with the place (inside the rule) to point at. */
interface RuleProblem {
  problem: Omit<Diagnostic, 'position'> & { path: YamlPath };
}

function buildRule(file: string, index: number, raw: RawRule): { rule: Rule } | RuleProblem {
  const effect = ruleEffect(raw);
  if ('problem' in effect) return effect;
  const emergency = raw.when?.emergency;
  // Deny rules and emergency rules must also hold for partners not (yet) in the case.
  const participant =
    raw.when?.participant ?? (effect.effect === 'allow' && emergency !== true ? true : 'any');
  const phase = many(raw.when?.phase);
  const personRole = many(raw.when?.['person.role']);
  const caseFlags = many(raw.when?.['case.flag']);
  const legalBases = many(raw.legal_basis);
  const partnerKinds = many(raw.partner_kind);
  const when: RuleWhen = {
    participant,
    ...(phase === undefined ? {} : { phase }),
    ...(personRole === undefined ? {} : { personRole }),
    ...(caseFlags === undefined ? {} : { caseFlags }),
    ...(emergency === undefined ? {} : { emergency }),
  };
  const fields: FieldRef[] = (raw.fields ?? []).map((pattern, i) => ({
    pattern,
    src: { file, path: ['rules', index, 'fields', i] },
  }));
  return {
    rule: {
      id: raw.id,
      effect: effect.effect,
      actions: effect.actions,
      ...(raw.partner === undefined
        ? {}
        : { partners: raw.partner === '*' ? '*' : (many(raw.partner) ?? []) }),
      ...(partnerKinds === undefined ? {} : { partnerKinds }),
      purposes: raw.purpose === '*' ? '*' : (many(raw.purpose) ?? []),
      fields,
      when,
      ...(legalBases === undefined ? {} : { legalBases }),
      reason: raw.reason,
      src: { file, path: ['rules', index] },
    },
  };
}

function ruleEffect(raw: RawRule): { effect: Rule['effect']; actions: Action[] } | RuleProblem {
  if (raw.can !== undefined && raw.cannot !== undefined) {
    return {
      problem: {
        severity: 'error',
        code: 'can-and-cannot',
        message: `Rule '${raw.id}' has both 'can' and 'cannot'. A rule either allows or forbids: split it into two rules.`,
        path: ['cannot'],
      },
    };
  }
  if (raw.can !== undefined) return { effect: 'allow', actions: many(raw.can) ?? [] };
  if (raw.cannot !== undefined) return { effect: 'deny', actions: many(raw.cannot) ?? [] };
  return {
    problem: {
      severity: 'error',
      code: 'missing-can-or-cannot',
      message: `Rule '${raw.id}' says neither 'can' nor 'cannot'. Add 'can: read' (or write, manage) to allow, or 'cannot: …' to forbid.`,
      path: [],
    },
  };
}

function buildTest(file: string, index: number, raw: RawTest): PolicyTest {
  const refs = (key: 'read' | 'write' | 'deny' | 'deny_write'): FieldRef[] =>
    (raw.expect[key] ?? []).map((pattern, i) => ({
      pattern,
      src: { file, path: ['tests', index, 'expect', key, i] },
    }));
  return {
    name: raw.name,
    as: { partner: raw.as.partner, purpose: raw.as.purpose },
    case: {
      phase: raw.case.phase,
      participant: raw.case.participant ?? true,
      flags: raw.case.flags ?? [],
      emergency: raw.case.emergency ?? false,
    },
    ...(raw.person === undefined ? {} : { person: { role: raw.person.role } }),
    expect: {
      read: refs('read'),
      write: refs('write'),
      deny: refs('deny'),
      denyWrite: refs('deny_write'),
      ...(raw.expect.manage === undefined ? {} : { manage: raw.expect.manage }),
      ...(raw.expect.involvement_matches === undefined
        ? {}
        : { involvementMatches: raw.expect.involvement_matches }),
      ...(raw.expect.field_history === undefined ? {} : { fieldHistory: raw.expect.field_history }),
    },
    src: { file, path: ['tests', index] },
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function many<T>(value: OneOrMany<T> | undefined): T[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "An id: …" → "an id: …", but "HTTPS address" and "ISO-8601" keep their capitals. */
function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

export function formatPosition(p: SourcePosition): string {
  return `${p.file}:${p.line}:${p.column}`;
}

/** Diagnostics in reading order: by file, line, column; folder-level ones (no position) first. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic): [string, number, number] => [
    d.position?.file ?? '',
    d.position?.line ?? 0,
    d.position?.column ?? 0,
  ];
  return [...diagnostics].sort((a, b) => {
    const [fa, la, ca] = key(a);
    const [fb, lb, cb] = key(b);
    if (fa !== fb) return fa < fb ? -1 : 1;
    return la - lb || ca - cb;
  });
}

function folderError(code: string, message: string): Diagnostic {
  return { severity: 'error', code, message };
}

/** Paths are shown relative to the working directory where that is shorter to read. */
function displayPath(path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * Edit distance counting a swap of two neighbouring letters as one edit (optimal string
 * alignment), because transposed letters (`zrog` for `zorg`) are the commonest typo.
 */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const up = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((up[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (up[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}
