import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AccessLogRepository } from '../access-log/access-log.repository.js';
import type { AccessLogEntry } from '../access-log/access-log.types.js';
import type { CompiledConvenant, Sensitivity } from '../policy/index.js';
import {
  RetentionRepository,
  type LapsedCaseRow,
  type LapsedSignalRow,
  type LapsedValueRow,
  type RetentionPeriods,
} from './retention.repository.js';

/**
 * Case-data retention: each purpose's retention period from the convenant decides when data
 * shared under it has lost its basis.
 *
 * - A value lapses when the partner that recorded it no longer takes part in the case under the
 *   value's purpose and that purpose's retention has passed since its participation ended
 *   (closing a case ends every participation, so for a closed case: since the closing). Values
 *   recorded under another purpose whose retention still runs are kept, with the case.
 * - A closed case goes as a whole (persons, participations, phase changes, emergency grants)
 *   once the retention of every purpose it was shared under has passed since the closing.
 * - An involvement signal lapses with its purpose's retention, counted from its withdrawal (or
 *   from when it was made, for one never withdrawn: the partner signals again if still involved).
 *
 * `plan` says what would go; `run` removes exactly the plan it computes in the same transaction,
 * refuses to commit if a delete removed anything else, and logs what went by category (catalogue
 * section and sensitivity) and count as `retention` entries in the access log. It never touches
 * the access log's own rows, so the hash chain still verifies.
 */

export interface RemovedCategory {
  section: string;
  sensitivity: Sensitivity | 'unknown';
  purpose: string;
  count: number;
}

export interface CasePlan {
  caseId: string;
  reference: string;
  /** The whole case goes (it is closed and every purpose lapsed); else only `values`. */
  wholeCase: boolean;
  values: number;
  /** The catalogue fields of the removed values (ids only). */
  fields: string[];
  categories: RemovedCategory[];
  persons: number;
  participations: number;
  phaseChanges: number;
  emergencyGrants: number;
}

export interface RetentionPlan {
  now: string;
  policyVersion: string;
  periods: RetentionPeriods;
  cases: CasePlan[];
  signals: { purpose: string; count: number }[];
  totals: { cases: number; values: number; signals: number };
  /** The exact rows, so that a run can be compared with its dry run. */
  ids: { values: string[]; cases: string[]; signals: string[] };
}

const RETENTION_ACTOR = 'retention-job';
/** Rows per access log INSERT: well below PostgreSQL's 65,535 parameters. */
const LOG_CHUNK = 500;

export class RetentionService {
  private readonly repository: RetentionRepository;
  private readonly accessLog: AccessLogRepository;

  constructor(
    dataSource: DataSource,
    private readonly compiled: CompiledConvenant,
  ) {
    this.repository = new RetentionRepository(dataSource);
    this.accessLog = new AccessLogRepository(dataSource);
  }

  periods(): RetentionPeriods {
    return Object.fromEntries(this.compiled.convenant.purposes.map((p) => [p.id, p.retention]));
  }

  async plan(now: Date): Promise<RetentionPlan> {
    return this.repository.transaction((tx) => this.planIn(tx, now));
  }

  /** Removes what `plan(now)` lists, in one transaction, and logs it; returns the plan carried out. */
  async run(now: Date): Promise<RetentionPlan> {
    return this.repository.transaction(async (tx) => {
      const plan = await this.planIn(tx, now);
      const removed = await this.repository.remove(tx, plan.ids);
      const expected = {
        values: plan.ids.values.length,
        cases: plan.ids.cases.length,
        signals: plan.ids.signals.length,
      };
      if (
        removed.values !== expected.values ||
        removed.cases !== expected.cases ||
        removed.signals !== expected.signals
      ) {
        throw new Error(
          `Retention removed ${JSON.stringify(removed)} but planned ${JSON.stringify(expected)}; rolled back.`,
        );
      }
      const entries = this.entries(plan);
      for (let i = 0; i < entries.length; i += LOG_CHUNK) {
        await this.accessLog.append(entries.slice(i, i + LOG_CHUNK), tx);
      }
      return plan;
    });
  }

  private async planIn(tx: Parameters<Parameters<RetentionRepository['transaction']>[0]>[0], now: Date) {
    const periods = this.periods();
    const lapsedCases = await this.repository.lapsedCases(now, periods, tx);
    const caseIds = new Set(lapsedCases.map((c) => c.caseId));
    const lapsedValues = await this.repository.lapsedValues(now, periods, tx);
    const values = [
      ...(await this.repository.valuesOfCases([...caseIds], tx)),
      ...lapsedValues.filter((v) => !caseIds.has(v.caseId)),
    ];
    const signals = await this.repository.lapsedSignals(now, periods, tx);
    return this.assemble(now, periods, lapsedCases, values, signals);
  }

  private assemble(
    now: Date,
    periods: RetentionPeriods,
    lapsedCases: readonly LapsedCaseRow[],
    values: readonly LapsedValueRow[],
    signals: readonly LapsedSignalRow[],
  ): RetentionPlan {
    const byCase = new Map<string, CasePlan>();
    for (const c of lapsedCases) {
      byCase.set(c.caseId, {
        caseId: c.caseId,
        reference: c.reference,
        wholeCase: true,
        values: 0,
        fields: [],
        categories: [],
        persons: c.persons,
        participations: c.participations,
        phaseChanges: c.phaseChanges,
        emergencyGrants: c.emergencyGrants,
      });
    }
    for (const v of values) {
      let plan = byCase.get(v.caseId);
      if (!plan) {
        plan = {
          caseId: v.caseId,
          reference: v.reference,
          wholeCase: false,
          values: 0,
          fields: [],
          categories: [],
          persons: 0,
          participations: 0,
          phaseChanges: 0,
          emergencyGrants: 0,
        };
        byCase.set(v.caseId, plan);
      }
      plan.values++;
      if (!plan.fields.includes(v.field)) plan.fields.push(v.field);
      const { section, sensitivity } = this.category(v.field);
      const found = plan.categories.find(
        (c) => c.section === section && c.sensitivity === sensitivity && c.purpose === v.purpose,
      );
      if (found) found.count++;
      else plan.categories.push({ section, sensitivity, purpose: v.purpose, count: 1 });
    }
    const cases = [...byCase.values()].sort((a, b) => a.reference.localeCompare(b.reference));
    for (const c of cases) {
      c.fields.sort();
      c.categories.sort(
        (a, b) =>
          a.section.localeCompare(b.section) ||
          a.sensitivity.localeCompare(b.sensitivity) ||
          a.purpose.localeCompare(b.purpose),
      );
    }
    const signalCounts = new Map<string, number>();
    for (const s of signals) signalCounts.set(s.purpose, (signalCounts.get(s.purpose) ?? 0) + 1);
    return {
      now: now.toISOString(),
      policyVersion: this.compiled.version,
      periods,
      cases,
      signals: [...signalCounts]
        .map(([purpose, count]) => ({ purpose, count }))
        .sort((a, b) => a.purpose.localeCompare(b.purpose)),
      totals: { cases: lapsedCases.length, values: values.length, signals: signals.length },
      ids: {
        values: values.map((v) => v.id).sort(),
        cases: lapsedCases.map((c) => c.caseId).sort(),
        signals: signals.map((s) => s.id).sort(),
      },
    };
  }

  private category(fieldId: string): { section: string; sensitivity: Sensitivity | 'unknown' } {
    const field = this.compiled.field(fieldId);
    return {
      section: field?.section ?? fieldId.split('.')[0]!,
      sensitivity: field?.sensitivity ?? 'unknown',
    };
  }

  /** One entry per case (and one per purpose's signals), never naming a person: they are gone. */
  private entries(plan: RetentionPlan): AccessLogEntry[] {
    const traceId = randomBytes(16).toString('hex');
    const basesOf = (purposes: Iterable<string>) => [
      ...new Set(
        [...purposes].flatMap(
          (p) => this.compiled.convenant.purposes.find((u) => u.id === p)?.legalBases ?? [],
        ),
      ),
    ];
    const entry = (over: Partial<AccessLogEntry> & Pick<AccessLogEntry, 'reason'>): AccessLogEntry => ({
      requestId: null,
      traceId,
      partner: null,
      professional: RETENTION_ACTOR,
      purpose: null,
      legalBasis: [],
      action: 'retention',
      caseId: null,
      dataSubjectRef: null,
      fields: [],
      status: 'allowed',
      ruleId: null,
      policyVersion: plan.policyVersion,
      emergency: false,
      ...over,
    });
    const described = (c: CasePlan) =>
      c.categories.map((k) => `${k.section}/${k.sensitivity} under ${k.purpose}: ${k.count}`).join('; ');
    const out: AccessLogEntry[] = plan.cases.map((c) => {
      const purposes = new Set(c.categories.map((k) => k.purpose));
      const what = c.wholeCase
        ? `Removed closed case ${c.reference} whose every purpose's retention has passed: ${c.values} value(s), ` +
          `${c.persons} person(s), ${c.participations} participation(s), ${c.phaseChanges} phase change(s), ` +
          `${c.emergencyGrants} emergency grant(s).`
        : `Removed ${c.values} value(s) of case ${c.reference} whose purpose's retention has passed.`;
      return entry({
        caseId: c.caseId,
        purpose: purposes.size === 1 ? [...purposes][0]! : null,
        legalBasis: basesOf(purposes),
        fields: c.fields,
        reason: `${what}${c.categories.length > 0 ? ` By category: ${described(c)}.` : ''}`,
      });
    });
    for (const s of plan.signals) {
      out.push(
        entry({
          purpose: s.purpose,
          legalBasis: basesOf([s.purpose]),
          reason: `Removed ${s.count} involvement signal(s) under ${s.purpose} whose retention (${plan.periods[s.purpose]}) has passed.`,
        }),
      );
    }
    return out;
  }
}
