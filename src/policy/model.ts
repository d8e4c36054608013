/**
 * The normalised, in-memory shape of a convenant after loading and merging its YAML files.
 * Everything in src/policy/ works on these types; none of it does I/O except the loader.
 * See docs/convenant-format.md for the YAML these come from.
 */

export const SENSITIVITIES = ['ordinary', 'bsn', 'health', 'criminal', 'confidential-address'] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];

/** Sensitivities that need more than an AVG art. 6 basis: art. 9, art. 10, BSN, geheim adres. */
export const SPECIAL_SENSITIVITIES: readonly Sensitivity[] = [
  'bsn',
  'health',
  'criminal',
  'confidential-address',
];

export const ACTIONS = ['read', 'write', 'manage'] as const;
export type Action = (typeof ACTIONS)[number];

export const PHASES = ['acute', 'stabilisatie', 'herstel', 'afgesloten'] as const;
export type Phase = (typeof PHASES)[number];

export const PERSON_ROLES = ['slachtoffer', 'pleger', 'kind', 'gezinslid'] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

export const FIELD_TYPES = ['string', 'text', 'date', 'datetime', 'boolean', 'number', 'enum'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const FIELD_LEVELS = ['case', 'person'] as const;
export type FieldLevel = (typeof FIELD_LEVELS)[number];

/** Where something was written: a file and the YAML path inside it (keys and list indexes). */
export interface SourceRef {
  /** Path of the YAML file as given to the loader (relative to the working directory where possible). */
  file: string;
  path: readonly (string | number)[];
}

/** A resolved position, 1-based, as editors and terminals show it. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

export interface Located {
  src: SourceRef;
}

export interface CaseFlag extends Located {
  id: string;
  description?: string;
}

export interface LegalBasis extends Located {
  id: string;
  citation: string;
  description?: string;
  permits: Sensitivity[];
  /**
   * The partner kinds that may rely on this basis (a sector law binds only the organisations it
   * addresses); absent: any partner.
   */
  appliesTo?: string[];
  /**
   * For a basis that permits health or criminal data: the AVG art. 9(2) or art. 10 exception and
   * its UAVG provision, as cited in the signed text.
   */
  exception?: string;
}

export interface PartnerKeys {
  /** Path to a JWKS file, relative to the convenant folder. */
  jwksFile?: string;
  /** A partner's published JWKS. */
  jwksUri?: string;
}

export interface Partner extends Located {
  id: string;
  name: string;
  kind: string;
  purposes: string[];
  keys: PartnerKeys;
  contact?: string;
  /** Who signs for this partner; empty when the files do not say (the document leaves lines). */
  signatories: Signatory[];
}

export interface Signatory extends Located {
  name: string;
  function: string;
  /** Absent: left blank in the document, to be filled in by hand when signing. */
  place?: string;
  date?: string;
}

/**
 * How a person's role is shown to the readers of a case (issue 18 point 5: being named `pleger`
 * can be criminal-law data). A role without an entry is shown to every reader.
 */
export interface PersonRoleDisclosure extends Located {
  role: PersonRole;
  /** A person-level catalogue field: the role is shown only where this field is readable. */
  disclosedWith?: string;
  /** The general word shown instead, to readers who may not see the role. */
  shownAs: string;
}

/** Who acts: a partner id, the partner that brought the case in, or each partner for itself. */
export type AgreementParty = string;
export const CONTROLLER_OF_RECORD = 'controller-of-record';
export const EVERY_PARTNER = 'every-partner';

export interface Supervisor extends Located {
  partner: string;
  scope: 'joint' | 'own-organisation';
}

/**
 * What the signed text says besides the rules (policies/convenant.schema.json, `agreement`):
 * the preamble, term and amendment, and the legal frame of the cooperation (AVG art. 13/14, 26,
 * 28, 33-35 and the supervisory arrangement). See docs/handleiding-juristen.md.
 */
export interface Agreement extends Located {
  preamble: string;
  term: { duration?: string; renewal?: string; evaluation?: string; notice: string };
  amendment: string;
  jointControllership: { arrangement: string; contactPoint: AgreementParty; contact?: string };
  dpia: { reference: string; date?: string; coordinator?: string; review?: string };
  informationDuties: { by: AgreementParty; how: string; exceptions?: string };
  processor: { name: string; agreement: string; contractedBy: string; duties?: string };
  dataBreaches: {
    reportWithin: string;
    coordinator: string;
    notifiesAuthority: AgreementParty;
    authorityWithin: string;
    procedure: string;
  };
  supervision: { officers: Supervisor[]; arrangement: string };
}

export interface EmergencyAccess {
  allowed: boolean;
  /** ISO-8601 duration of a grant; the gateway's configured default applies when absent. */
  window?: string;
}

export interface Purpose extends Located {
  id: string;
  name: string;
  description: string;
  legalBases: string[];
  /** ISO-8601 duration, e.g. P5Y. */
  retention: string;
  /** How long the access log keeps this purpose's entries (ISO-8601); absent: the gateway's default. */
  logRetention?: string;
  emergencyAccess: EmergencyAccess;
  /**
   * Whether partners that signal involvement with a person under this purpose (verwijsindex)
   * learn which other partners signalled the same person, and how to reach them. Default false.
   */
  involvementMatches: boolean;
  /**
   * Whether partners acting under this purpose may see the earlier versions (with their reasons)
   * of the fields they may read now, not only the current value. Default false.
   */
  fieldHistory: boolean;
  /**
   * ISO-8601 duration: participations for this purpose continue this long after the case is
   * closed (aftercare, nazorg); absent: closing ends them like every other participation.
   */
  afterClosing?: string;
}

export interface CatalogueField extends Located {
  /** `<section>.<name>` */
  id: string;
  section: string;
  name: string;
  description?: string;
  sensitivity: Sensitivity;
  level: FieldLevel;
  type: FieldType;
  values?: string[];
}

export interface Section extends Located {
  id: string;
  description?: string;
  fields: CatalogueField[];
}

/** A field id or pattern as written in a rule or test (`zorg.diagnose`, `plan.*`, `*`), with its place. */
export interface FieldRef extends Located {
  pattern: string;
}

export interface RuleWhen {
  /** `true`: the partner must take part in the case for this purpose now. `'any'`: no requirement. */
  participant: true | 'any';
  phase?: Phase[];
  personRole?: PersonRole[];
  caseFlags?: string[];
  /** Only under emergency access (doorbraak). */
  emergency?: true;
}

export interface Rule extends Located {
  id: string;
  effect: 'allow' | 'deny';
  actions: Action[];
  /** Exactly one of partners / partnerKinds is set. `'*'` means every partner. */
  partners?: '*' | string[];
  partnerKinds?: string[];
  /** `'*'` means every purpose. */
  purposes: '*' | string[];
  /** Empty for manage-only rules. */
  fields: FieldRef[];
  when: RuleWhen;
  legalBases?: string[];
  reason: string;
}

export interface PolicyTestCase {
  phase: Phase;
  participant: boolean;
  flags: string[];
  emergency: boolean;
}

export interface PolicyTestExpect {
  read: FieldRef[];
  write: FieldRef[];
  deny: FieldRef[];
  denyWrite: FieldRef[];
  manage?: boolean;
  /** Whether the purpose must (true) or must not (false) disclose involvement matches. */
  involvementMatches?: boolean;
  /** Whether the purpose must (true) or must not (false) show the history of readable fields. */
  fieldHistory?: boolean;
}

export interface PolicyTest extends Located {
  name: string;
  as: { partner: string; purpose: string };
  case: PolicyTestCase;
  person?: { role: PersonRole };
  expect: PolicyTestExpect;
}

export interface Convenant {
  id: string;
  title: string;
  version: string;
  effectiveFrom?: string;
  /** Absent in a convenant that does not (yet) give it; validate warns, render uses standard text. */
  agreement?: Agreement;
  personRoles: PersonRoleDisclosure[];
  /** The folder it was loaded from. */
  dir: string;
  /** The YAML files, in the order they were merged. */
  files: string[];
  caseFlags: CaseFlag[];
  legalBases: LegalBasis[];
  partners: Partner[];
  purposes: Purpose[];
  sections: Section[];
  /** All catalogue fields, flattened, in catalogue order. */
  fields: CatalogueField[];
  rules: Rule[];
  tests: PolicyTest[];
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** Stable machine code, e.g. `unknown-partner`, `wildcard-matches-nothing`, `shadowed-rule`. */
  code: string;
  /** A plain sentence a jurist can act on. */
  message: string;
  /** file:line:column; absent only when no file is involved (e.g. an empty folder). */
  position?: SourcePosition;
}
