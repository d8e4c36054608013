import { handOverPolicy, loadEnforceablePolicy, takeHandedOverPolicy } from './enforceable.js';

const DIR = 'test/fixtures/policies/minimal';

describe("main.ts's load of the convenant, handed to the registry", () => {
  it('is taken once, for the folder it was loaded from, so the registry does not load it again', () => {
    const policy = loadEnforceablePolicy(DIR);
    handOverPolicy(DIR, policy);
    expect(takeHandedOverPolicy(DIR)).toBe(policy);
    // A reload (watcher, endpoint) reads the folder anew.
    expect(takeHandedOverPolicy(DIR)).toBeUndefined();
  });

  it('is not taken for another folder', () => {
    handOverPolicy(DIR, loadEnforceablePolicy(DIR));
    expect(takeHandedOverPolicy('policies/vh-twente')).toBeUndefined();
    expect(takeHandedOverPolicy(DIR)).toBeUndefined();
  });
});
