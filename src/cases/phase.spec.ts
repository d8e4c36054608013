import { PHASES } from '../policy/index.js';
import { phaseChangeKind } from './phase.js';

describe('phaseChangeKind', () => {
  it('moves forward and back between the running phases', () => {
    expect(phaseChangeKind('acute', 'stabilisatie')).toBe('forward');
    expect(phaseChangeKind('stabilisatie', 'herstel')).toBe('forward');
    expect(phaseChangeKind('acute', 'herstel')).toBe('forward');
    expect(phaseChangeKind('herstel', 'acute')).toBe('back');
    expect(phaseChangeKind('herstel', 'stabilisatie')).toBe('back');
  });

  it('closes from every running phase and reopens into every running phase', () => {
    for (const phase of ['acute', 'stabilisatie', 'herstel'] as const) {
      expect(phaseChangeKind(phase, 'afgesloten')).toBe('close');
      expect(phaseChangeKind('afgesloten', phase)).toBe('reopen');
    }
  });

  it('is no change when the phase stays the same', () => {
    for (const phase of PHASES) expect(phaseChangeKind(phase, phase)).toBeUndefined();
  });
});
