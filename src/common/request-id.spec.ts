import { traceIdFrom } from './request-id.js';

describe('traceIdFrom', () => {
  it('takes the trace id of a valid traceparent', () => {
    expect(traceIdFrom({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
  });

  it.each([
    ['missing', undefined],
    ['malformed', 'not-a-traceparent'],
    ['all-zero trace id (invalid per W3C)', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['upper-case hex (invalid per W3C)', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'],
  ])('makes a fresh 32-hex id when the header is %s', (_label, traceparent) => {
    const id = traceIdFrom(traceparent === undefined ? {} : { traceparent });
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdFrom({})).not.toBe(traceIdFrom({}));
  });
});
