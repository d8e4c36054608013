import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError, handleUnauthorized, session, type EventFilters, type Principal } from './api';
import { formatDateTime, I18nContext, translator, type I18n, type Language } from './i18n';
import { navigate, PATHS, useView, type View } from './router';
import { Loading } from './components/Status';
import { SignIn } from './views/SignIn';
import { AccessLog } from './views/AccessLog';
import { Subject } from './views/Subject';
import { Emergency } from './views/Emergency';
import { Integrity } from './views/Integrity';
import { Convenant } from './views/Convenant';

const LANGUAGE_KEY = 'convenant.fg.language';
const NAV: View[] = ['log', 'subject', 'emergency', 'integrity', 'convenant'];
const NAV_KEYS = {
  log: 'nav.log',
  subject: 'nav.subject',
  emergency: 'nav.emergency',
  integrity: 'nav.integrity',
  convenant: 'nav.convenant',
} as const;

/** What one view hands to another without a URL: a person to report on, a case to filter by. */
export interface Handoff {
  subjectRef?: string;
  filters?: EventFilters;
}

export function App() {
  const [language, setLanguage] = useState<Language>(() =>
    sessionStorage.getItem(LANGUAGE_KEY) === 'en' ? 'en' : 'nl',
  );
  const i18n = useMemo<I18n>(
    () => ({ language, t: translator(language), dateTime: (iso) => formatDateTime(language, iso) }),
    [language],
  );
  const { t } = i18n;
  const [principal, setPrincipal] = useState<Principal | null>(null);
  const [checking, setChecking] = useState(() => session.token() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const [handoff, setHandoff] = useState<Handoff>({});
  const view = useView();

  useEffect(() => {
    document.documentElement.lang = language;
    document.title = t('app.title');
    sessionStorage.setItem(LANGUAGE_KEY, language);
  }, [language, t]);

  const signOut = useCallback((message: string | null) => {
    session.clear();
    setPrincipal(null);
    setNotice(message);
  }, []);

  useEffect(() => {
    handleUnauthorized(() => signOut(translator(language)('signIn.expired')));
  }, [language, signOut]);

  // A reload keeps the tab's session: the stored token is checked once more.
  useEffect(() => {
    const token = session.token();
    if (!token) return;
    api
      .whoami(token)
      .then((who) => setPrincipal(who))
      .catch((error: unknown) => {
        session.clear();
        if (error instanceof ApiError && error.status !== 401)
          setNotice(error.sentence(translator(language)));
      })
      .finally(() => setChecking(false));
    // Only on first load; later checks happen at sign-in.
  }, []);

  const go = (next: View, data: Handoff = {}) => {
    setHandoff(data);
    navigate(next);
  };

  return (
    <I18nContext.Provider value={i18n}>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="top">
        <div className="brand">
          <span className="brand-title">{t('app.title')}</span>
          <span className="brand-sub">{t('app.subtitle')}</span>
        </div>
        <div className="top-actions">
          <button
            type="button"
            className="link-button"
            lang={language === 'nl' ? 'en' : 'nl'}
            onClick={() => setLanguage(language === 'nl' ? 'en' : 'nl')}
          >
            {t('app.switchLanguage')}
          </button>
          {principal && (
            <>
              <span className="who">
                {t('app.signedInAs', { professional: principal.professional, partner: principal.partner })}
              </span>
              <button type="button" className="secondary" onClick={() => signOut(null)}>
                {t('app.signOut')}
              </button>
            </>
          )}
        </div>
      </header>
      {principal && (
        <nav aria-label={t('nav.label')} className="tabs">
          <ul>
            {NAV.map((item) => (
              <li key={item}>
                <a
                  href={PATHS[item]}
                  aria-current={view === item ? 'page' : undefined}
                  onClick={(event) => {
                    event.preventDefault();
                    go(item);
                  }}
                >
                  {t(NAV_KEYS[item])}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <main id="main">
        {checking && !principal ? (
          <Loading />
        ) : !principal ? (
          <SignIn
            notice={notice}
            onSignedIn={(who) => {
              setNotice(null);
              setPrincipal(who);
            }}
          />
        ) : view === 'log' ? (
          <AccessLog key={JSON.stringify(handoff.filters ?? {})} initial={handoff.filters} go={go} />
        ) : view === 'subject' ? (
          <Subject key={handoff.subjectRef ?? ''} initialRef={handoff.subjectRef} />
        ) : view === 'emergency' ? (
          <Emergency />
        ) : view === 'integrity' ? (
          <Integrity />
        ) : (
          <Convenant />
        )}
      </main>
    </I18nContext.Provider>
  );
}
