/**
 * The public API of the policy engine: pure functions over a convenant (no Nest, no database,
 * no I/O except reading the convenant folder in load/validate). The gateway, the CLI and the
 * tests all go through here, so every decision can be explained the same way.
 */
export * from './model.js';
export { expandFieldPattern, expandFieldPatterns, ruleAppliesTo, ruleTargetsPartner } from './match.js';
export { basesForPartner, basisAppliesTo, basisPermitting } from './legal-basis.js';
export {
  aftercareWindows,
  CLOSED_PHASE,
  effectiveWhen,
  emergencyOpensClosedCase,
  OPEN_PHASES,
} from './closing.js';
export { loadConvenantDir, loadConvenantSources, type LoadResult } from './load.js';
export { checkConvenantDir, formatDiagnostic, oneLineMessage, validateConvenant } from './validate.js';
export { canonicalJson, policyVersion, type PolicyVersion } from './version.js';
export {
  ABILITY_OPTIONS,
  CASE_GUARD_ID,
  CASE_SUBJECT,
  FIELD_ACTIONS,
  PERSON_GUARD_ID,
  PolicyError,
  PurposeNotAllowedError,
  UnknownPartnerError,
  UnknownPurposeError,
  accessSubject,
  compileConvenant,
  decideField,
  decideManage,
  permittedFields,
  type AccessSubject,
  type AccessSubjectInput,
  type CaseSubject,
  type CompiledConvenant,
  type ConvenantAbility,
  type ConvenantRawRule,
  type FieldAction,
  type FieldDecision,
  type GuardRawRule,
  type RuleConditions,
} from './compile.js';
export {
  CONDITION_KINDS,
  conditionsCover,
  explainWhen,
  renderWhen,
  type ConditionKind,
  type ConditionTable,
} from './conditions.js';
export {
  DENIED_BY_DEFAULT,
  Decisions,
  decide,
  decisionKey,
  type Decision,
  type DecisionSubject,
  type Verdict,
} from './decide.js';
export {
  NO_RULE_GRANTS,
  UnknownCaseFlagError,
  explain,
  type ActionExplanation,
  type DecisionGroup,
  type ExplainQuery,
  type Explanation,
  type FieldExplanation,
  type LegalBasisRef,
  type Situation,
} from './explain.js';
export {
  runPolicyTest,
  runPolicyTests,
  type PolicyTestFailure,
  type PolicyTestReport,
  type PolicyTestResult,
} from './test-runner.js';
