import { useState } from 'react';
import { api, ApiError, type VerifyReport } from '../api';
import { useI18n } from '../i18n';
import { ErrorMessage, Loading, ViewHeading } from '../components/Status';

/** Chain verification on demand: it recomputes the whole log, so it runs when asked, not on open. */
export function Integrity() {
  const { t, dateTime } = useI18n();
  const [report, setReport] = useState<{ at: string; result: VerifyReport } | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run() {
    setLoading(true);
    setError(null);
    try {
      const result = await api.verify();
      setReport({ at: new Date().toISOString(), result });
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.sentence(t) : String(failure));
    } finally {
      setLoading(false);
    }
  }

  const result = report?.result;
  return (
    <section>
      <ViewHeading>{t('integrity.title')}</ViewHeading>
      <p>{t('integrity.intro')}</p>
      <button type="button" onClick={() => void run()} disabled={loading}>
        {t('integrity.run')}
      </button>
      {loading && <Loading />}
      <ErrorMessage message={error} />
      {!result && !loading && !error && <p className="empty">{t('integrity.notRun')}</p>}
      {result && !loading && (
        <div className="panel">
          <p className={result.ok ? 'verdict ok' : 'verdict failed'} role="status">
            {result.ok
              ? t('integrity.ok')
              : t('integrity.failed', {
                  problem: result.failure?.problem ?? '?',
                  position: result.failure?.position ?? '?',
                  seq: result.failure?.seq ?? '?',
                })}
          </p>
          <dl className="compact">
            <div>
              <dt>{t('integrity.checkedAt')}</dt>
              <dd>{dateTime(report.at)}</dd>
            </div>
            <div>
              <dt>{t('integrity.entries')}</dt>
              <dd className="entries">{result.entries}</dd>
            </div>
            <div>
              <dt>{t('integrity.checkpoints')}</dt>
              <dd>{result.checkpoints}</dd>
            </div>
            <div>
              <dt>{t('integrity.pending')}</dt>
              <dd>{result.pending}</dd>
            </div>
            <div>
              <dt>{t('integrity.lastCheckpoint')}</dt>
              <dd>
                {result.lastCheckpoint
                  ? t('integrity.lastCheckpointAt', {
                      position: result.lastCheckpoint.position,
                      when: dateTime(result.lastCheckpoint.createdAt),
                    })
                  : t('integrity.noCheckpoint')}
              </dd>
            </div>
            <div>
              <dt>{t('integrity.head')}</dt>
              <dd className="mono">{result.head}</dd>
            </div>
          </dl>
        </div>
      )}
    </section>
  );
}
