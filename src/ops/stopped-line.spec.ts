import { stoppedLine } from './stopped-line.js';

describe("the gateway's closing line", () => {
  it('says the access log is sealed only when the last seal sealed it', () => {
    expect(stoppedLine('sealed')).toEqual({ ok: true, text: 'Stopped: access log sealed, database closed' });
    for (const outcome of ['locked-elsewhere', 'failed', undefined] as const) {
      expect(stoppedLine(outcome).text).not.toContain('access log sealed');
    }
  });

  it('reports a failed or missing last seal as a failure (exit code 1)', () => {
    expect(stoppedLine('failed')).toMatchObject({ ok: false, text: expect.stringContaining('FAILED') });
    expect(stoppedLine(undefined).ok).toBe(false);
    expect(stoppedLine('locked-elsewhere').ok).toBe(true);
  });
});
