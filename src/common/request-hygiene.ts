import { isUtf8 } from 'node:buffer';
import { HttpStatus } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { DomainError, type InvalidParam } from './problem.js';

/**
 * Input hygiene, in one place, before validation and before any database call: request bodies
 * (JSON and form) and URLs are refused when they carry NUL characters, invalid UTF-8 or lone
 * surrogates (PostgreSQL cannot store the first, and the driver silently turns the others into
 * U+FFFD), JSON nested deeper than MAX_JSON_DEPTH (class-transformer recurses and overflows the
 * stack), duplicate member names (otherwise the last one silently wins) or prototype keys.
 *
 * The refusal is an ordinary DomainError, so the one exception filter answers it with problem+json
 * and logs it like any other refusal. Its detail names the kind of problem only; the places (JSON
 * pointers) are in `errors`, never in the access log, since a member name is caller-chosen text.
 */

/** The deepest a legitimate body goes is ~5 levels (a case with persons and their fields). */
export const MAX_JSON_DEPTH = 32;

/** More problems than this in one body are not worth listing. */
const MAX_PROBLEMS = 20;

export class UnsafeInputError extends DomainError {
  constructor(errors: InvalidParam[], detail: string, extensions: Record<string, unknown> = {}) {
    super(HttpStatus.BAD_REQUEST, 'unsafe-input', 'Unsafe input', detail, { errors, ...extensions });
  }
}

/** A structural problem after which the body cannot be read further. */
class Fatal extends Error {}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** One segment of an RFC 6901 pointer, with control characters shown as \uXXXX so it prints anywhere. */
function segment(name: string): string {
  return (
    name
      .replace(/~/g, '~0')
      .replace(/\//g, '~1')
      // eslint-disable-next-line no-control-regex -- control characters are what this replaces
      .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  );
}

/**
 * A validating scanner over the body's bytes that builds the value as it goes. Structural
 * characters are ASCII, so it never decodes the body as a whole: each string is checked for
 * UTF-8 on its own bytes, which lets a problem be named by its JSON pointer.
 */
class JsonScanner {
  private pos = 0;
  readonly problems: InvalidParam[] = [];
  readonly kinds = new Set<string>();

  constructor(
    private readonly buf: Buffer,
    private readonly maxDepth: number,
  ) {}

  document(): unknown {
    // RFC 8259 §8.1: a parser may ignore a byte order mark.
    if (this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf) this.pos = 3;
    this.ws();
    const value = this.value('', 1);
    this.ws();
    if (this.pos < this.buf.length)
      this.fatal('', `unexpected data after the JSON value at byte ${this.pos}`);
    return value;
  }

  private problem(pointer: string, kind: string, detail: string): void {
    this.kinds.add(kind);
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ pointer, detail });
  }

  private fatal(pointer: string, detail: string): never {
    this.problem(pointer, 'is not well-formed JSON', detail);
    throw new Fatal();
  }

  private ws(): void {
    for (;;) {
      const c = this.buf[this.pos];
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else return;
    }
  }

  private value(pointer: string, depth: number): unknown {
    const c = this.buf[this.pos];
    if (c === 0x7b) return this.object(pointer, depth);
    if (c === 0x5b) return this.array(pointer, depth);
    if (c === 0x22) return this.string(pointer, 'value');
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return this.number(pointer);
    if (this.literal('true')) return true;
    if (this.literal('false')) return false;
    if (this.literal('null')) return null;
    return this.fatal(
      pointer,
      c === undefined
        ? 'the body ends where a value was expected'
        : `expected a JSON value at byte ${this.pos}`,
    );
  }

  private enter(pointer: string, depth: number): void {
    if (depth > this.maxDepth) {
      this.kinds.add(`is nested deeper than ${this.maxDepth} levels`);
      this.problems.push({ pointer, detail: `nested deeper than ${this.maxDepth} levels` });
      throw new Fatal();
    }
    this.pos++;
    this.ws();
  }

  private object(pointer: string, depth: number): Record<string, unknown> {
    this.enter(pointer, depth);
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    if (this.buf[this.pos] === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.buf[this.pos] !== 0x22) this.fatal(pointer, `expected a member name at byte ${this.pos}`);
      const name = this.string(pointer, 'name');
      const member = `${pointer}/${segment(name)}`;
      let keep = true;
      if (seen.has(name)) {
        this.problem(member, 'has duplicate member names', 'this member name appears more than once');
        keep = false;
      }
      if (FORBIDDEN_NAMES.has(name)) {
        this.problem(member, 'uses a forbidden member name', `the member name ${name} is not accepted`);
        keep = false;
      }
      seen.add(name);
      this.ws();
      if (this.buf[this.pos] !== 0x3a) this.fatal(member, `expected ':' at byte ${this.pos}`);
      this.pos++;
      this.ws();
      const value = this.value(member, depth + 1);
      if (keep) out[name] = value;
      this.ws();
      const c = this.buf[this.pos];
      this.pos++;
      if (c === 0x7d) return out;
      if (c !== 0x2c) this.fatal(pointer, `expected ',' or '}' at byte ${this.pos - 1}`);
      this.ws();
    }
  }

  private array(pointer: string, depth: number): unknown[] {
    this.enter(pointer, depth);
    const out: unknown[] = [];
    if (this.buf[this.pos] === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(`${pointer}/${out.length}`, depth + 1));
      this.ws();
      const c = this.buf[this.pos];
      this.pos++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.fatal(pointer, `expected ',' or ']' at byte ${this.pos - 1}`);
      this.ws();
    }
  }

  /** A string token; `role` says whether a problem lies in a member name or a value. */
  private string(pointer: string, role: 'name' | 'value'): string {
    const start = ++this.pos;
    let escaped = false;
    for (;;) {
      const c = this.buf[this.pos];
      if (c === undefined) this.fatal(pointer, 'a string is not terminated');
      if (c === 0x22) break;
      if (c === 0) {
        this.problem(pointer, 'contains NUL characters', 'contains a NUL character (U+0000)');
        throw new Fatal();
      }
      if (c < 0x20) this.fatal(pointer, `a control character at byte ${this.pos} must be escaped`);
      if (c === 0x5c) {
        escaped = true;
        const next = this.buf[this.pos + 1];
        if (next === 0x75) {
          const hex = this.buf.toString('latin1', this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex))
            this.fatal(pointer, `a \\u escape at byte ${this.pos} is invalid`);
          this.pos += 6;
          continue;
        }
        if (next === undefined || !'"\\/bfnrt'.includes(String.fromCharCode(next))) {
          this.fatal(pointer, `an escape at byte ${this.pos} is invalid`);
        }
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    const bytes = this.buf.subarray(start, this.pos);
    this.pos++;
    const raw = bytes.toString('utf8');
    const text = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
    const where = role === 'name' ? `${pointer}/${segment(text)}` : pointer;
    const what = role === 'name' ? 'the member name' : 'the value';
    if (!isUtf8(bytes)) this.problem(where, 'is not valid UTF-8', `${what} is not valid UTF-8`);
    else if (LONE_SURROGATE.test(text)) {
      this.problem(where, 'is not valid Unicode', `${what} holds a lone surrogate (\\uD800-\\uDFFF)`);
    }
    if (escaped && text.includes('\u0000')) {
      this.problem(where, 'contains NUL characters', `${what} contains a NUL character (U+0000)`);
    }
    return text;
  }

  private number(pointer: string): number {
    const start = this.pos;
    for (;;) {
      const c = this.buf[this.pos];
      if (
        c === undefined ||
        !((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45)
      ) {
        break;
      }
      this.pos++;
    }
    const token = this.buf.toString('latin1', start, this.pos);
    if (!NUMBER.test(token)) this.fatal(pointer, `a number at byte ${start} is malformed`);
    return Number(token);
  }

  private literal(word: string): boolean {
    if (this.buf.toString('latin1', this.pos, this.pos + word.length) !== word) return false;
    this.pos += word.length;
    return true;
  }
}

function refusal(
  problems: InvalidParam[],
  kinds: Set<string>,
  what: string,
  extensions = {},
): UnsafeInputError {
  return new UnsafeInputError(
    problems,
    `The ${what} ${[...kinds].join(', ')}; see errors for where. Nothing was processed.`,
    extensions,
  );
}

/**
 * Parses a JSON body strictly (see the module comment); throws UnsafeInputError with every
 * problem found, each with its JSON pointer. A structural problem ends the scan.
 */
export function parseJsonBody(body: Buffer, maxDepth = MAX_JSON_DEPTH): unknown {
  const scanner = new JsonScanner(body, maxDepth);
  let value: unknown;
  try {
    value = scanner.document();
  } catch (error) {
    if (!(error instanceof Fatal)) throw error;
  }
  if (scanner.problems.length > 0) throw refusal(scanner.problems, scanner.kinds, 'JSON body');
  return value;
}

/**
 * Parses an application/x-www-form-urlencoded body (only the token endpoint takes one). A
 * repeated parameter becomes an array, which the token endpoint refuses in OAuth's terms.
 */
export function parseFormBody(body: Buffer): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const problems: InvalidParam[] = [];
  const kinds = new Set<string>();
  const text = body.toString('latin1');
  for (const pair of text === '' ? [] : text.split('&')) {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const name = decodeFormComponent(rawName);
    const value = decodeFormComponent(rawValue);
    const pointer = `/${segment(name ?? rawName)}`;
    for (const [decoded, what] of [
      [name, 'the parameter name'],
      [value, 'the value'],
    ] as const) {
      if (decoded === undefined) {
        kinds.add('is not valid percent-encoded UTF-8');
        problems.push({ pointer, detail: `${what} is not valid percent-encoded UTF-8` });
      } else if (decoded.includes('\u0000')) {
        kinds.add('contains NUL characters');
        problems.push({ pointer, detail: `${what} contains a NUL character (U+0000)` });
      }
    }
    if (name === undefined || value === undefined) continue;
    if (FORBIDDEN_NAMES.has(name)) {
      kinds.add('uses a forbidden parameter name');
      problems.push({ pointer, detail: `the parameter name ${name} is not accepted` });
      continue;
    }
    const previous = out[name];
    out[name] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  if (problems.length > 0) {
    throw refusal(problems.slice(0, MAX_PROBLEMS), kinds, 'form body', { error: 'invalid_request' });
  }
  return out;
}

/** Percent-decoding that refuses what does not decode to UTF-8 (decodeURIComponent throws then). */
function decodeFormComponent(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The URL's path and query, percent-decoded: NUL characters and invalid UTF-8 are refused there
 * too (Fastify would pass U+FFFD or a NUL on to the route). Query values are never echoed.
 */
export function checkUrl(url: string): void {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  const problems: InvalidParam[] = [];
  const kinds = new Set<string>();
  const check = (raw: string, pointer: string, what: string) => {
    const decoded = decodeFormComponent(raw);
    if (decoded === undefined) {
      kinds.add('is not valid percent-encoded UTF-8');
      problems.push({ pointer, detail: `${what} is not valid percent-encoded UTF-8` });
    } else if (decoded.includes('\u0000')) {
      kinds.add('contains NUL characters');
      problems.push({ pointer, detail: `${what} contains a NUL character (U+0000)` });
    }
  };
  // '+' is a literal in a path; decodeFormComponent's '+' handling does not change validity.
  check(path, 'path', 'the path');
  for (const pair of query === '' ? [] : query.split('&')) {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = decodeFormComponent(rawName);
    const pointer = name !== undefined && !name.includes('\u0000') ? `query ${segment(name)}` : 'query';
    check(rawName, pointer, 'a query parameter name');
    if (eq >= 0) check(pair.slice(eq + 1), pointer, 'the query value');
  }
  if (problems.length > 0) throw refusal(problems.slice(0, MAX_PROBLEMS), kinds, 'URL');
}

/**
 * Installs the hygiene: the JSON and form parsers (Nest's own are then not registered) and a hook
 * that checks the URL first thing. Errors from both go to the one exception filter.
 */
export function registerRequestHygiene(app: NestFastifyApplication, bodyLimit: number): void {
  app.useBodyParser('application/json', { bodyLimit }, (_request, body, done) => {
    done(null, parseJsonBody(body));
  });
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit }, (_request, body, done) => {
    done(null, parseFormBody(body));
  });
  const fastify: FastifyInstance = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, _reply, done) => {
    try {
      checkUrl(request.raw.url ?? '/');
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}
