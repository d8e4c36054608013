import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { AccessLogEntry } from './access-log.types.js';

const COLUMNS = [
  'trace_id',
  'partner',
  'professional',
  'processing_activity_id',
  'legal_basis',
  'action',
  'case_id',
  'data_subject_ref',
  'fields',
  'status',
  'rule_id',
  'reason',
  'policy_version',
  'emergency',
] as const;

function values(e: AccessLogEntry): unknown[] {
  return [
    e.traceId,
    e.partner,
    e.professional,
    e.purpose,
    e.legalBasis,
    e.action,
    e.caseId,
    e.dataSubjectRef,
    e.fields,
    e.status,
    e.ruleId,
    e.reason,
    e.policyVersion,
    e.emergency,
  ];
}

/**
 * Writes access log entries. Pass the EntityManager of the transaction that reads or writes the
 * data, so entries and data commit together or not at all; one multi-row INSERT per request.
 */
@Injectable()
export class AccessLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  async append(
    entries: readonly AccessLogEntry[],
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    if (entries.length === 0) return;
    const params: unknown[] = [];
    const rows = entries.map((entry) => {
      const placeholders = values(entry).map((value) => {
        params.push(value);
        return `$${params.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    await manager.query(`INSERT INTO access_log (${COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`, params);
  }
}
