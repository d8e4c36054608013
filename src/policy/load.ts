/**
 * Loads a convenant folder into the Convenant model, in three stages, each reporting every
 * problem it finds before giving up:
 *  1. parse each YAML file, keeping every node's position (syntax errors);
 *  2. check each file against policies/convenant.schema.json (schema errors, as plain sentences);
 *  3. merge the files into one model (metadata given once, can/cannot exclusive).
 * Semantic checks (unknown ids, legal bases, shadowed rules) are in validate.ts; they need the
 * merged model, so they only run when the first two stages found nothing. The stages live in
 * load-yaml.ts, load-schema.ts and load-merge.ts; this file reads the folder and runs them.
 */
import { isUtf8 } from 'node:buffer';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Convenant, Diagnostic, SourcePosition, SourceRef } from './model.js';
import type { RawFile } from './load-raw.js';
import { type SourceFile, parseSource, positionOf, syntaxDiagnostics } from './load-yaml.js';
import { checkAgainstSchema } from './load-schema.js';
import { mergeFiles } from './load-merge.js';
import { displayPath, folderError, sortDiagnostics } from './load-text.js';
export { ISO_8601_DURATION } from './load-schema.js';
export { didYouMean, formatPosition, sortDiagnostics } from './load-text.js';

export interface LoadOptions {
  /**
   * Read files written in an older version of the format, filling in what it lacked (with a
   * note each); see load-upgrade.ts. Only for comparing with a signed older version.
   */
  olderFormat?: boolean;
}

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

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** Loads a convenant from in-memory files (already in merge order). Pure: no I/O. */
export function loadConvenantSources(
  dir: string,
  files: { path: string; text: string }[],
  options: LoadOptions = {},
): LoadResult {
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
    const checked = checkAgainstSchema(source, options);
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
