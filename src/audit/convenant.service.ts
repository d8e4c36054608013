import { Injectable } from '@nestjs/common';
import { AuditService } from './audit.service.js';
import { officerPartnerIds } from './officer.js';
import type { Actor } from '../kernel/actor.js';
import { effectiveAccess, type EffectiveAccess } from '../policy/access.js';
import type { CompiledConvenant } from '../policy/compile.js';
import { buildMatrix, type ConvenantMatrix } from '../policy/matrix.js';
import { renderConvenant, type DocumentFormat } from '../policy/render.js';
import { PolicyReloadRefusedError, PolicyVersionNotFoundError } from './convenant.errors.js';
import {
  PolicyVersionRepository,
  type PolicyVersionRecord,
  type PolicyVersionSummary,
} from '../kernel/policy-version.repository.js';
import { PolicyInvalidError, PolicyRegistry, type ReloadOutcome } from '../kernel/policy.registry.js';

/**
 * The officers' view of the convenant itself: the matrix and the Dutch document of the version in
 * force (computed once per version), the recorded versions with their text, and reloading. Every
 * call is logged as an `audit` entry before its answer (503 if it cannot be).
 */
@Injectable()
export class ConvenantService {
  private readonly access = new WeakMap<CompiledConvenant, EffectiveAccess>();
  private readonly matrices = new WeakMap<CompiledConvenant, ConvenantMatrix>();
  private readonly documents = new WeakMap<CompiledConvenant, Map<DocumentFormat, string>>();

  constructor(
    private readonly registry: PolicyRegistry,
    private readonly versions: PolicyVersionRepository,
    private readonly audit: AuditService,
  ) {}

  private accessOf(compiled: CompiledConvenant): EffectiveAccess {
    let access = this.access.get(compiled);
    if (!access) this.access.set(compiled, (access = effectiveAccess(compiled)));
    return access;
  }

  async matrix(officer: Actor): Promise<ConvenantMatrix> {
    const compiled = this.registry.current();
    let matrix = this.matrices.get(compiled);
    if (!matrix) this.matrices.set(compiled, (matrix = buildMatrix(compiled, this.accessOf(compiled))));
    await this.audit.recordQuery(officer, {
      caseId: null,
      dataSubjectRef: null,
      reason: `Convenant matrix of version ${compiled.version} viewed.`,
    });
    return matrix;
  }

  async document(officer: Actor, format: DocumentFormat): Promise<{ version: string; text: string }> {
    const compiled = this.registry.current();
    let byFormat = this.documents.get(compiled);
    if (!byFormat) this.documents.set(compiled, (byFormat = new Map<DocumentFormat, string>()));
    let text = byFormat.get(format);
    if (text === undefined) {
      text = renderConvenant(
        compiled,
        format,
        { officers: officerPartnerIds(compiled.convenant) },
        this.accessOf(compiled),
      );
      byFormat.set(format, text);
    }
    await this.audit.recordQuery(officer, {
      caseId: null,
      dataSubjectRef: null,
      reason: `Convenant document (${format}) of version ${compiled.version} viewed.`,
    });
    return { version: compiled.version, text };
  }

  async list(officer: Actor): Promise<{ inForce: string; items: PolicyVersionSummary[] }> {
    const items = await this.versions.list();
    await this.audit.recordQuery(officer, {
      caseId: null,
      dataSubjectRef: null,
      reason: `Convenant versions listed; ${items.length} returned.`,
    });
    return { inForce: this.registry.inForce().version, items };
  }

  async get(officer: Actor, version: string): Promise<PolicyVersionRecord> {
    const record = await this.versions.get(version);
    await this.audit.recordQuery(officer, {
      caseId: null,
      dataSubjectRef: null,
      reason: `Convenant version ${version} ${record ? 'viewed' : 'asked for, not found'}.`,
    });
    if (!record) throw new PolicyVersionNotFoundError();
    return record;
  }

  /** Reloads now. A refusal is logged as an audit entry too, then answered with 422 and every problem. */
  async reload(officer: Actor): Promise<ReloadOutcome> {
    try {
      const outcome = await this.registry.reload('endpoint');
      await this.audit.recordQuery(officer, {
        caseId: null,
        dataSubjectRef: null,
        reason:
          outcome.status === 'reloaded'
            ? `Convenant reloaded: version ${outcome.version} replaces ${outcome.previousVersion}.`
            : `Convenant reload asked; version ${outcome.version} unchanged.`,
      });
      return outcome;
    } catch (error) {
      if (!(error instanceof PolicyInvalidError)) throw error;
      const inForce = this.registry.inForce().version;
      await this.audit.recordQuery(officer, {
        caseId: null,
        dataSubjectRef: null,
        reason: `Convenant reload refused (${error.issues.length} problems); version ${inForce} stays in force.`,
      });
      throw new PolicyReloadRefusedError(inForce, error.issues);
    }
  }
}
