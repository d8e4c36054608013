import { createHash } from 'node:crypto';
import type { AuditEvent } from './audit.repository.js';

/**
 * The access log in the record format of Logius' Logboek Dataverwerkingen (LDV): one record per
 * entry, written as one JSON object per line. docs/ldv.md says which version of the standard this
 * follows and why each field is mapped the way it is; the facts relied on are quoted there.
 */

/** LDV's `status`: `Unset` for a processing handled without an internal fault, `Ok` for an explicit success. */
export type LdvStatus = 'Unset' | 'Ok' | 'Error';

/** The `dpl.core` attributes LDV defines; the data subject pair only when the entry names one. */
export interface LdvAttributes {
  'dpl.core.processing_activity_id': string;
  'dpl.core.data_subject_id'?: string;
  'dpl.core.data_subject_id_type'?: string;
}

export interface LdvRecord {
  /** 16 bytes, lowercase hex (W3C Trace Context). */
  trace_id: string;
  /** 8 bytes, lowercase hex. */
  span_id: string;
  /** The request's span, for an entry about a person (LDV: one child action per data subject). */
  parent_span_id?: string;
  status: LdvStatus;
  name: string;
  /** Milliseconds, ISO 8601 UTC. */
  start_time: string;
  end_time: string;
  resource: { attributes: Record<string, string> };
  attributes: LdvAttributes;
}

/** What the mapping needs beyond the entry: where the register of processing activities lives. */
export interface LdvContext {
  /** The gateway's PUBLIC_URL, without a trailing slash. */
  publicUrl: string;
  /** The id of the convenant the gateway enforces (resource attribute). */
  convenantId: string;
}

/**
 * The `_type` of `dpl.core.data_subject_id`: the gateway's own pseudonymous subject reference
 * (`p_` and 20 random base32 characters, minted when a person is registered, not derived from a
 * BSN), so the record names which kind of identifier it carries.
 */
export const LDV_SUBJECT_ID_TYPE = 'convenant-subject-ref';

/** The processing activity of entries without a purpose: the gateway refusing or admitting a caller. */
export const LDV_ACCESS_CONTROL = 'access-control';

/**
 * The span id of an entry. The log stores no span id, so it is derived, deterministically, from
 * what identifies the entry: the gateway-made request id and the entry's chain position (seq,
 * unique). The same entry always gets the same span id, in every export; two entries never share
 * one unless SHA-256 collides in 64 bits.
 */
export function ldvSpanId(requestId: string | null, seq: string): string {
  return createHash('sha256')
    .update(`convenant-ldv-span\n${requestId ?? ''}\n${seq}`)
    .digest('hex')
    .slice(0, 16);
}

/**
 * The span of a request as a whole, the parent of its entries about persons: LDV asks that a
 * processing with several data subjects gets one child action per subject under the action
 * already known. Derived from the request id alone, so all of a request's entries name the same one.
 */
export function ldvRequestSpanId(requestId: string): string {
  return ldvSpanId(requestId, 'request');
}

/**
 * The URI of an entry's processing activity: the convenant version recorded when the entry was
 * written (GET /v1/convenant/versions/{version} answers it with its YAML), and in it the purpose.
 * A version identifies one unchanging text, which is what LDV asks of a register entry.
 */
export function ldvProcessingActivityId(
  publicUrl: string,
  policyVersion: string | null,
  purpose: string | null,
): string {
  const version = policyVersion === null ? '' : `/${encodeURIComponent(policyVersion)}`;
  const activity = purpose === null ? LDV_ACCESS_CONTROL : `purpose-${encodeURIComponent(purpose)}`;
  return `${publicUrl}/v1/convenant/versions${version}#${activity}`;
}

/** Microseconds are stored; LDV's timestamps are milliseconds. */
function toMillis(occurredAt: string): string {
  return new Date(Date.parse(occurredAt)).toISOString();
}

/** One access log entry as an LDV record. Pure: the same entry and context give the same record. */
export function toLdvRecord(event: AuditEvent, context: LdvContext): LdvRecord {
  const attributes: LdvAttributes = {
    'dpl.core.processing_activity_id': ldvProcessingActivityId(
      context.publicUrl,
      event.policyVersion,
      event.purpose,
    ),
  };
  if (event.dataSubjectRef !== null) {
    attributes['dpl.core.data_subject_id'] = event.dataSubjectRef;
    attributes['dpl.core.data_subject_id_type'] = LDV_SUBJECT_ID_TYPE;
  }
  const at = toMillis(event.occurredAt);
  const parent =
    event.requestId !== null && event.dataSubjectRef !== null
      ? { parent_span_id: ldvRequestSpanId(event.requestId) }
      : {};
  return {
    trace_id: event.traceId,
    span_id: ldvSpanId(event.requestId, event.seq),
    ...parent,
    // A refusal is the gateway working as it should (LDV: handled without fault is Unset).
    status: event.outcome === 'allowed' ? 'Ok' : 'Unset',
    name: event.action,
    start_time: at,
    end_time: at,
    resource: { attributes: { 'service.name': 'convenant', 'convenant.id': context.convenantId } },
    attributes,
  };
}

/**
 * The record of a request as a whole, written before the first of its entries about a person:
 * the parent those entries name. It refers to no data subject; its status is the default Unset
 * (the request's own outcome is in its children), its time the first child's.
 */
export function ldvRequestRecord(event: AuditEvent & { requestId: string }, context: LdvContext): LdvRecord {
  const { parent_span_id: _parent, ...child } = toLdvRecord(event, context);
  return {
    ...child,
    span_id: ldvRequestSpanId(event.requestId),
    status: 'Unset',
    attributes: { 'dpl.core.processing_activity_id': child.attributes['dpl.core.processing_activity_id'] },
  };
}

/**
 * The lines of a run of entries in seq order. `parents` holds the requests whose parent record
 * was already written in this export (one id per request about persons in the range), so each
 * parent is written once, before its first child.
 */
export function ldvLines(events: readonly AuditEvent[], context: LdvContext, parents: Set<string>): string {
  let out = '';
  for (const event of events) {
    const { requestId } = event;
    if (requestId !== null && event.dataSubjectRef !== null && !parents.has(requestId)) {
      parents.add(requestId);
      out += `${JSON.stringify(ldvRequestRecord({ ...event, requestId }, context))}\n`;
    }
    out += `${JSON.stringify(toLdvRecord(event, context))}\n`;
  }
  return out;
}
