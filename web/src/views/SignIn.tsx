import { useState, type FormEvent } from 'react';
import { api, ApiError, session, type Principal } from '../api';
import { useI18n } from '../i18n';
import { ErrorMessage, Loading, ViewHeading } from '../components/Status';

/** Officers sign in with an access token for purpose toezicht; the gateway says whose it is. */
export function SignIn({
  notice,
  onSignedIn,
}: {
  notice: string | null;
  onSignedIn: (who: Principal) => void;
}) {
  const { t } = useI18n();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(notice);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError(t('signIn.empty'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const who = await api.whoami(value);
      if (who.purpose !== 'toezicht') {
        setError(t('signIn.notOfficer', { partner: who.partner, purpose: who.purpose }));
        return;
      }
      session.set(value);
      onSignedIn(who);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.sentence(t) : String(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel narrow">
      <ViewHeading>{t('signIn.title')}</ViewHeading>
      <p>{t('signIn.intro')}</p>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <div className="field">
          <label htmlFor="token">{t('signIn.token')}</label>
          <input
            id="token"
            name="token"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={token}
            aria-describedby="token-help"
            aria-invalid={error ? true : undefined}
            onChange={(event) => setToken(event.target.value)}
          />
          <p id="token-help" className="help">
            {t('signIn.tokenHelp')}
          </p>
        </div>
        <ErrorMessage message={error} />
        <button type="submit" disabled={busy}>
          {t('signIn.submit')}
        </button>
        {busy && <Loading />}
      </form>
    </section>
  );
}
