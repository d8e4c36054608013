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
  agreement?: RawAgreement;
  case_flags?: Record<string, { description?: string }>;
  person_roles?: Partial<Record<PersonRole, RawPersonRole>>;
  legal_bases?: Record<string, RawLegalBasis>;
  partners?: RawPartner[];
  purposes?: RawPurpose[];
  catalogue?: Record<string, RawSection>;
  rules?: RawRule[];
  tests?: RawTest[];
}

export interface RawPersonRole {
  disclosed_with?: string;
  shown_as: string;
}

/** The signed text's own parts (policies/convenant.schema.json, definition `agreement`). */
export interface RawAgreement {
  preamble: string;
  term: { duration?: string; renewal?: string; evaluation?: string; notice: string };
  amendment: string;
  joint_controllership: { arrangement: string; contact_point: string; contact?: string };
  dpia: { reference: string; date?: string; coordinator?: string; review?: string };
  information_duties: { by: string; how: string; exceptions?: string };
  processor: { name: string; agreement: string; contracted_by: string; duties?: string };
  data_breaches: {
    report_within: string;
    coordinator: string;
    notifies_authority: string;
    authority_within: string;
    procedure: string;
  };
  supervision: { officers: RawSupervisor[]; arrangement: string };
}

export interface RawSupervisor {
  partner: string;
  scope: 'joint' | 'own-organisation';
}

export interface RawSignatory {
  name: string;
  function: string;
  place?: string;
  date?: string;
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
  signatories?: RawSignatory[];
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
