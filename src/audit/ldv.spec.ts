import type { AuditEvent } from './audit.repository.js';
import {
  LDV_SUBJECT_ID_TYPE,
  ldvLines,
  ldvProcessingActivityId,
  ldvRequestSpanId,
  ldvSpanId,
  toLdvRecord,
} from './ldv.js';

const CONTEXT = { publicUrl: 'https://convenant.example.nl', convenantId: 'zvh-rotterdam-rijnmond' };

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    seq: '42',
    occurredAt: '2026-12-03T09:15:01.123456Z',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    partner: 'vtrr',
    professional: 'vt-0007',
    purpose: 'triage',
    legalBasis: ['wmo-2015-art-4.1.1'],
    action: 'read',
    caseId: '11111111-1111-4111-8111-111111111111',
    dataSubjectRef: 'p_abcdefghijklmnopqrst',
    fields: ['persoon.naam'],
    outcome: 'allowed',
    ruleId: 'r1',
    reason: 'Because.',
    policyVersion: '2026.2+0123456789ab',
    emergency: false,
    requestId: '6f1c1c3e-52a4-4d55-9a8e-3f0b8a2f4c11',
    ...overrides,
  };
}

describe('toLdvRecord', () => {
  it('maps an entry about a person onto the core fields and attributes', () => {
    expect(toLdvRecord(event(), CONTEXT)).toEqual({
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: ldvSpanId('6f1c1c3e-52a4-4d55-9a8e-3f0b8a2f4c11', '42'),
      parent_span_id: ldvRequestSpanId('6f1c1c3e-52a4-4d55-9a8e-3f0b8a2f4c11'),
      status: 'Ok',
      name: 'read',
      start_time: '2026-12-03T09:15:01.123Z',
      end_time: '2026-12-03T09:15:01.123Z',
      resource: { attributes: { 'service.name': 'convenant', 'convenant.id': 'zvh-rotterdam-rijnmond' } },
      attributes: {
        'dpl.core.processing_activity_id':
          'https://convenant.example.nl/v1/convenant/versions/2026.2%2B0123456789ab#purpose-triage',
        'dpl.core.data_subject_id': 'p_abcdefghijklmnopqrst',
        'dpl.core.data_subject_id_type': LDV_SUBJECT_ID_TYPE,
      },
    });
  });

  it('leaves the data subject pair out of an entry about no person, and marks a refusal Unset', () => {
    const record = toLdvRecord(event({ dataSubjectRef: null, outcome: 'denied' }), CONTEXT);
    expect(record.status).toBe('Unset');
    expect(Object.keys(record.attributes)).toEqual(['dpl.core.processing_activity_id']);
    expect(record).not.toHaveProperty('parent_span_id');
  });

  it('names the access-control activity for an entry without a purpose or version', () => {
    expect(ldvProcessingActivityId(CONTEXT.publicUrl, null, null)).toBe(
      'https://convenant.example.nl/v1/convenant/versions#access-control',
    );
    expect(ldvProcessingActivityId(CONTEXT.publicUrl, '1+ab', null)).toBe(
      'https://convenant.example.nl/v1/convenant/versions/1%2Bab#access-control',
    );
  });

  it('derives span ids deterministically: 8 bytes of hex, one per request and position', () => {
    const a = ldvSpanId('req-1', '1');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(ldvSpanId('req-1', '1')).toBe(a);
    expect(ldvSpanId('req-1', '2')).not.toBe(a);
    expect(ldvSpanId('req-2', '1')).not.toBe(a);
    expect(ldvSpanId(null, '1')).not.toBe(a);
  });

  it('writes a request about persons as a parent record once, before its first child', () => {
    const parents = new Set<string>();
    const a = event({ seq: '1', dataSubjectRef: 'p_aaaaaaaaaaaaaaaaaaaa' });
    const b = event({ seq: '2', dataSubjectRef: 'p_bbbbbbbbbbbbbbbbbbbb' });
    const caseLevel = event({ seq: '3', requestId: 'other', dataSubjectRef: null });
    const first = ldvLines([a], CONTEXT, parents);
    const second = ldvLines([b, caseLevel], CONTEXT, parents);
    const records = (first + second)
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.span_id)).toEqual([
      ldvRequestSpanId(a.requestId!),
      ldvSpanId(a.requestId, '1'),
      ldvSpanId(b.requestId, '2'),
      ldvSpanId('other', '3'),
    ]);
    const parent = records[0]!;
    expect(parent).not.toHaveProperty('parent_span_id');
    expect(parent.status).toBe('Unset');
    expect(parent.attributes).toEqual({
      'dpl.core.processing_activity_id': toLdvRecord(a, CONTEXT).attributes[
        'dpl.core.processing_activity_id'
      ],
    });
    expect(records[1]!.parent_span_id).toBe(parent.span_id);
    expect(records[2]!.parent_span_id).toBe(parent.span_id);
    expect(records[3]).toEqual(toLdvRecord(caseLevel, CONTEXT));
  });
});
