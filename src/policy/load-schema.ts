/**
 * Stage 2 of loading (see load.ts): checking a file against policies/convenant.schema.json, with
 * ajv's errors turned into sentences a jurist can act on.
 */
import type { DefinedError } from 'ajv';
import { isScalar } from 'yaml';
import schema from '../../policies/convenant.schema.json' with { type: 'json' };
import {
  ACTIONS,
  FIELD_LEVELS,
  FIELD_TYPES,
  PERSON_ROLES,
  PHASES,
  SENSITIVITIES,
  type Diagnostic,
  type SourcePosition,
} from './model.js';
import type { RawFile, YamlPath } from './load-raw.js';
import { MAX_ALIAS_COUNT, type SourceFile, positionOf } from './load-yaml.js';
import { capitalise, didYouMean, isRecord, lowerFirst, sentence } from './load-text.js';
import { upgradeOlderFormat } from './load-upgrade.js';
import { loadSchemaValidator } from './schema-validator.js';

// ---------------------------------------------------------------------------------------------
// Stage 2: schema validation, with ajv's errors turned into sentences
// ---------------------------------------------------------------------------------------------

// Precompiled at build time where it can be (see schema-validator.ts): compiling costs more than a validate.
const validateFile = (await loadSchemaValidator()).validate;

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

export function checkAgainstSchema(
  source: SourceFile,
  options: { olderFormat?: boolean } = {},
): { raw: RawFile | null; diagnostics: Diagnostic[] } {
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
  const notes: Diagnostic[] = options.olderFormat
    ? upgradeOlderFormat(data).map((u) => ({
        severity: 'warning',
        code: 'older-format',
        message: u.message,
        position: positionOf(source, u.path, 'key'),
      }))
    : [];
  if (validateFile(data)) return { raw: data as RawFile, diagnostics: notes };
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
