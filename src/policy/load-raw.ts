/**
 * The YAML shape of a convenant file after schema validation (snake_case, as jurists write it):
 * what the loader's stages hand each other before the files are merged into the model.
 */
import type { RawWhen } from './conditions.js';
import type { Action, FieldLevel, FieldType, PersonRole, Phase, Sensitivity } from './model.js';

export type YamlPath = (string | number)[];

// ---------------------------------------------------------------------------------------------
// The YAML shape after schema validation (snake_case, as jurists write it)
// ---------------------------------------------------------------------------------------------

export type OneOrMany<T> = T | T[];

export interface RawFile {
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

export interface RawPartner {
  id: string;
  name: string;
  kind: string;
  purposes: string[];
  keys?: string;
  jwks_uri?: string;
  contact?: string;
}

export interface RawPurpose {
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

export interface RawField {
  sensitivity: Sensitivity;
  level?: FieldLevel;
  type?: FieldType;
  values?: string[];
  description?: string;
}

export interface RawRule {
  id: string;
  partner?: OneOrMany<string>;
  partner_kind?: OneOrMany<string>;
  purpose: OneOrMany<string>;
  can?: OneOrMany<Action>;
  cannot?: OneOrMany<Action>;
  fields?: string[];
  when?: RawWhen;
  legal_basis?: OneOrMany<string>;
  reason: string;
}

export interface RawTest {
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
