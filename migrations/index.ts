import { PolicyVersions1763900000000 } from './1763900000000-policy-versions.js';
import { AccessLog1763900001000 } from './1763900001000-access-log.js';
import { ClientAssertionJti1763900002000 } from './1763900002000-client-assertion-jti.js';
import { Cases1763900003000 } from './1763900003000-cases.js';
import { AccessLogIntegrity1763900004000 } from './1763900004000-access-log-integrity.js';
import { AccessLogSeal1763900004100 } from './1763900004100-access-log-seal.js';
import { AuditIndexes1763900005000 } from './1763900005000-audit-indexes.js';
import { EmergencyReview1763900006000 } from './1763900006000-emergency-review.js';
import { AccessLogPartitions1763900007000 } from './1763900007000-access-log-partitions.js';
import { AccessLogPurge1763900007100 } from './1763900007100-access-log-purge.js';
import { CaseLifecycle1763900008000 } from './1763900008000-case-lifecycle.js';
import { AccessLogRequestIdentity1763900010000 } from './1763900010000-access-log-request-identity.js';
import { AccessLogMerkle1763900011000 } from './1763900011000-access-log-merkle.js';
import { AccessLogRetentionGuard1763900011100 } from './1763900011100-access-log-retention-guard.js';
import { CaseReferencePrefix1763900013000 } from './1763900013000-case-reference-prefix.js';
import { LeastPrivilegeRoles1763900015000 } from './1763900015000-least-privilege-roles.js';
import { AccessLogLeanIndexes1763900020000 } from './1763900020000-access-log-lean-indexes.js';

/**
 * The schema's history, oldest first. Migrations are listed explicitly (no glob): the build is ESM
 * and a reviewer sees in one place what the schema is made of.
 */
export const MIGRATIONS = [
  PolicyVersions1763900000000,
  AccessLog1763900001000,
  ClientAssertionJti1763900002000,
  Cases1763900003000,
  AccessLogIntegrity1763900004000,
  AccessLogSeal1763900004100,
  AuditIndexes1763900005000,
  EmergencyReview1763900006000,
  AccessLogPartitions1763900007000,
  AccessLogPurge1763900007100,
  CaseLifecycle1763900008000,
  AccessLogRequestIdentity1763900010000,
  AccessLogMerkle1763900011000,
  AccessLogRetentionGuard1763900011100,
  CaseReferencePrefix1763900013000,
  LeastPrivilegeRoles1763900015000,
  AccessLogLeanIndexes1763900020000,
];
