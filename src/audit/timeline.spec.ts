import { bucketsBetween, groupTimeline } from './audit.service.js';

describe('timeline buckets', () => {
  it('counts at most one bucket more than the whole steps a range covers, and none for an empty range', () => {
    expect(bucketsBetween('2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z', 'day')).toBe(2);
    expect(bucketsBetween('2025-01-01T00:00:00Z', '2026-02-05T00:00:00Z', 'day')).toBe(401);
    expect(bucketsBetween('2025-01-01T10:30:00Z', '2025-01-01T12:00:00Z', 'hour')).toBe(3);
    expect(bucketsBetween('2025-01-02T00:00:00Z', '2025-01-01T00:00:00Z', 'day')).toBe(0);
  });

  it('groups the flat counts by bucket in their order, with totals per partner and per bucket', () => {
    const row = (key: string, partner: string | null, allowed: number, denied: number) => ({
      key,
      start: `${key}T00:00:00Z`,
      end: `${key}T23:59:59Z`,
      partner,
      allowed,
      denied,
    });
    expect(
      groupTimeline([
        row('2025-01-01', 'politie', 2, 1),
        row('2025-01-01', null, 0, 3),
        row('2025-01-03', 'vtrr', 4, 0),
      ]),
    ).toEqual([
      {
        key: '2025-01-01',
        start: '2025-01-01T00:00:00Z',
        end: '2025-01-01T23:59:59Z',
        total: 6,
        partners: [
          { partner: 'politie', allowed: 2, denied: 1, total: 3 },
          { partner: null, allowed: 0, denied: 3, total: 3 },
        ],
      },
      {
        key: '2025-01-03',
        start: '2025-01-03T00:00:00Z',
        end: '2025-01-03T23:59:59Z',
        total: 4,
        partners: [{ partner: 'vtrr', allowed: 4, denied: 0, total: 4 }],
      },
    ]);
    expect(groupTimeline([])).toEqual([]);
  });
});
