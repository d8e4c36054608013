import path from 'node:path';
import { loadEnforceable } from '../kernel/policy.registry.js';
import { InvalidClientError, InvalidTokenRequestError, PurposeRefusedError } from './auth.errors.js';
import { CLIENT_ASSERTION_TYPE } from './client-assertion.js';
import { checkPurpose, parseTokenRequest } from './token.service.js';

const valid = {
  grant_type: 'client_credentials',
  client_assertion_type: CLIENT_ASSERTION_TYPE,
  client_assertion: 'a.b.c',
  scope: 'triage',
};

describe('parseTokenRequest', () => {
  it('reads a complete request and ignores parameters it does not know (RFC 6749 §3.2)', () => {
    expect(parseTokenRequest({ ...valid, client_id: 'vtrr', resource: 'x' })).toEqual({
      clientAssertion: 'a.b.c',
      purpose: 'triage',
      clientId: 'vtrr',
    });
  });

  it.each([
    [undefined, /x-www-form-urlencoded/, 'invalid_request'],
    [{ ...valid, grant_type: undefined }, /grant_type is missing/, 'invalid_request'],
    [
      { ...valid, grant_type: 'authorization_code' },
      /Only grant_type client_credentials/,
      'unsupported_grant_type',
    ],
    [{ ...valid, client_assertion_type: 'urn:x' }, /client_assertion_type must be/, 'invalid_request'],
    [{ ...valid, client_assertion: ['a.b.c', 'd.e.f'] }, /exactly once/, 'invalid_request'],
    [{ ...valid, client_assertion: 'x'.repeat(8193) }, /longer than 8192/, 'invalid_request'],
    [{ ...valid, scope: '  ' }, /scope is missing/, 'invalid_scope'],
    [{ ...valid, scope: 'triage nazorg' }, /exactly one purpose/, 'invalid_scope'],
    [{ ...valid, scope: 'Triage' }, /exactly one purpose/, 'invalid_scope'],
  ])('refuses %j', (body, message, oauthError) => {
    let thrown: unknown;
    try {
      parseTokenRequest(body);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidTokenRequestError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as InvalidTokenRequestError).extensions).toEqual({ error: oauthError });
  });
});

describe('checkPurpose', () => {
  const compiled = loadEnforceable(path.resolve('test/fixtures/policies/minimal'));

  it('passes a purpose the partner is registered for', () => {
    expect(() => checkPurpose(compiled, 'vtrr', 'triage')).not.toThrow();
  });

  it('refuses an unknown partner (401), an unknown purpose and an unregistered one (403)', () => {
    expect(() => checkPurpose(compiled, 'nobody', 'triage')).toThrow(InvalidClientError);
    expect(() => checkPurpose(compiled, 'vtrr', 'marketing')).toThrow(PurposeRefusedError);
    expect(() => checkPurpose(compiled, 'wijkteam', 'triage')).toThrow(
      "Partner 'wijkteam' is not registered for purpose 'triage' in the convenant; its purposes are uitvoering-plan.",
    );
  });
});
