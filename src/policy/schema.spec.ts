import { readFileSync } from 'node:fs';
import ts from 'typescript';
import schema from '../../policies/convenant.schema.json' with { type: 'json' };

/**
 * One contract: the JSON Schema (what editors and the loader's first check accept) and the
 * loader's own types (what it reads after that check) name the same keys, with the same
 * required-ness. A key only in the schema would be accepted and silently ignored; a key only in
 * the loader could never be written.
 */

interface KeySet {
  required: string[];
  optional: string[];
}

type SchemaNode = { properties?: Record<string, unknown>; required?: string[]; $ref?: string };
const definitions = schema.definitions as Record<string, SchemaNode>;

function schemaKeys(node: SchemaNode): KeySet {
  const all = Object.keys(node.properties ?? {}).sort();
  const required = (node.required ?? []).slice().sort();
  return { required, optional: all.filter((k) => !required.includes(k)) };
}

/**
 * Property lists of the loader's Raw* interfaces and of the object types written inside them
 * (load-raw.ts, and conditions.ts for a rule's `when`).
 */
function loaderTypes(): Map<string, KeySet> {
  const found = new Map<string, KeySet>();
  for (const path of ['src/policy/load-raw.ts', 'src/policy/conditions.ts']) readRawTypes(path, found);
  return found;
}

function readRawTypes(path: string, found: Map<string, KeySet>): void {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const keysOf = (members: ts.NodeArray<ts.TypeElement>, name: string): void => {
    const set: KeySet = { required: [], optional: [] };
    for (const member of members) {
      if (!ts.isPropertySignature(member)) continue;
      const key = member.name.getText(file).replace(/^'|'$/g, '');
      (member.questionToken ? set.optional : set.required).push(key);
      // Object types written in place: `when?: { … }`, `Record<string, { … }>`.
      member.type?.forEachChild(function visit(node): void {
        if (ts.isTypeLiteralNode(node)) keysOf(node.members, `${name}.${key}`);
        else node.forEachChild(visit);
      });
      if (member.type && ts.isTypeLiteralNode(member.type)) keysOf(member.type.members, `${name}.${key}`);
    }
    set.required.sort();
    set.optional.sort();
    found.set(name, set);
  };
  file.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text.startsWith('Raw'))
      keysOf(node.members, node.name.text);
  });
}

const loader = loaderTypes();

/** Which schema object the loader reads with which type. */
const PAIRS: [string, SchemaNode, string][] = [
  ['the file', schema, 'RawFile'],
  ['a case flag', definitions.caseFlag!, 'RawFile.case_flags'],
  ['a legal basis', definitions.legalBasis!, 'RawLegalBasis'],
  ['a partner', definitions.partner!, 'RawPartner'],
  ['a purpose', definitions.purpose!, 'RawPurpose'],
  ['emergency access', definitions.emergencyAccess!, 'RawPurpose.emergency_access'],
  ['a section', definitions.section!, 'RawSection'],
  ['a field', definitions.field!, 'RawField'],
  ['a rule', definitions.rule!, 'RawRule'],
  ['a rule condition', definitions.when!, 'RawWhen'],
  ['a test', definitions.test!, 'RawTest'],
  ['who a test acts as', definitions.test!.properties!.as as SchemaNode, 'RawTest.as'],
  ['the case of a test', definitions.test!.properties!.case as SchemaNode, 'RawTest.case'],
  ['the person of a test', definitions.test!.properties!.person as SchemaNode, 'RawTest.person'],
  ['what a test expects', definitions.test!.properties!.expect as SchemaNode, 'RawTest.expect'],
  ['how a person role is shown', definitions.personRole!, 'RawPersonRole'],
  ['a signatory', definitions.signatory!, 'RawSignatory'],
  ['the agreement', definitions.agreement!, 'RawAgreement'],
  ...[
    'term',
    'joint_controllership',
    'dpia',
    'information_duties',
    'processor',
    'data_breaches',
    'supervision',
  ].map((key): [string, SchemaNode, string] => [
    `the agreement's ${key}`,
    definitions.agreement!.properties![key] as SchemaNode,
    `RawAgreement.${key}`,
  ]),
  ['a supervising officer', definitions.supervisor!, 'RawSupervisor'],
];

describe('the JSON Schema and the loader agree', () => {
  it.each(PAIRS)('on the keys of %s, and which are required', (_what, node, type) => {
    expect(loader.get(type)).toEqual(schemaKeys(node));
  });

  it('leave no schema object unread by the loader', () => {
    const paired = new Set(PAIRS.map(([, node]) => node));
    const objects = Object.entries(definitions).filter(([, node]) => node.properties !== undefined);
    for (const [name, node] of objects) expect([name, paired.has(node)]).toEqual([name, true]);
  });
});
