import { DemoRandom } from './demo-random.js';

describe('DemoRandom', () => {
  it('repeats itself for the same seed and differs for another', () => {
    const a = new DemoRandom(7);
    const b = new DemoRandom(7);
    const c = new DemoRandom(8);
    const draw = (r: DemoRandom) => Array.from({ length: 5 }, () => r.uuid());
    const first = draw(a);
    expect(draw(b)).toEqual(first);
    expect(draw(c)).not.toEqual(first);
  });

  it('makes ids in the formats the database checks', () => {
    const r = new DemoRandom(1);
    for (let i = 0; i < 200; i++) {
      expect(r.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(r.subjectRef()).toMatch(/^p_[a-z2-7]{20}$/);
    }
  });

  it('keeps int within bounds and sample distinct', () => {
    const r = new DemoRandom(3);
    const ints = Array.from({ length: 1000 }, () => r.int(2, 4));
    expect(new Set(ints)).toEqual(new Set([2, 3, 4]));
    const picked = r.sample(['a', 'b', 'c', 'd'], 3);
    expect(new Set(picked).size).toBe(3);
  });
});
