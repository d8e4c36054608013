import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, type SubjectReport } from '../api';
import { useI18n } from '../i18n';
import { ErrorMessage, Loading, ViewHeading } from '../components/Status';
import { actionWord } from './AccessLog';

const SUBJECT_REF = /^p_[A-Za-z0-9]{20}$/;

/** AVG art. 15: the overview for one person, asked for in a POST body, printable. */
export function Subject({ initialRef }: { initialRef: string | undefined }) {
  const { t, dateTime } = useI18n();
  const [ref, setRef] = useState(initialRef ?? '');
  const [withProfessionals, setWithProfessionals] = useState(false);
  const [report, setReport] = useState<SubjectReport | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function load(subjectRef: string, includeProfessionals: boolean) {
    if (!SUBJECT_REF.test(subjectRef)) {
      setError(t('subject.invalid'));
      return;
    }
    setLoading(true);
    setError(null);
    setReport(null);
    try {
      setReport(await api.subjectReport(subjectRef, includeProfessionals));
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.sentence(t) : String(failure));
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    if (initialRef) void load(initialRef, false);
    // Opened from a log entry: report on that person straight away, once.
  }, []);

  function submit(event: FormEvent) {
    event.preventDefault();
    void load(ref.trim(), withProfessionals);
  }

  async function download() {
    if (!report) return;
    try {
      const blob = await api.subjectReportHtml(report.subjectRef, report.includesProfessionals);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `inzage-${report.subjectRef}.html`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.sentence(t) : String(failure));
    }
  }

  return (
    <section>
      <ViewHeading>{t('subject.title')}</ViewHeading>
      <p className="no-print">{t('subject.intro')}</p>
      <form className="filters no-print" onSubmit={submit} noValidate>
        <div className="field wide">
          <label htmlFor="subject-ref">{t('subject.ref')}</label>
          <input
            id="subject-ref"
            type="text"
            spellCheck={false}
            autoComplete="off"
            value={ref}
            aria-describedby="subject-ref-help"
            onChange={(event) => setRef(event.target.value)}
          />
          <p id="subject-ref-help" className="help">
            {t('subject.refHelp')}
          </p>
        </div>
        <div className="field checkbox">
          <input
            id="subject-professionals"
            type="checkbox"
            checked={withProfessionals}
            onChange={(event) => setWithProfessionals(event.target.checked)}
          />
          <label htmlFor="subject-professionals">{t('subject.includeProfessionals')}</label>
        </div>
        <div className="actions">
          <button type="submit">{t('subject.submit')}</button>
        </div>
      </form>
      <ErrorMessage message={error} />
      {loading && <Loading />}
      {report && (
        <div className="report">
          <p className="summary">
            {t('subject.summary', {
              ref: report.subjectRef,
              count: report.accesses.length,
              when: dateTime(report.generatedAt),
              version: report.policyVersion,
            })}
          </p>
          <div className="actions no-print">
            <button type="button" onClick={() => print()}>
              {t('subject.print')}
            </button>
            <button type="button" className="secondary" onClick={() => void download()}>
              {t('subject.download')}
            </button>
          </div>
          {report.accesses.length === 0 ? (
            <p className="empty">{t('subject.empty')}</p>
          ) : (
            <div className="table-wrap" tabIndex={0} role="region" aria-label={t('subject.table')}>
              <table className="subject">
                <caption>{t('subject.table')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('log.when')}</th>
                    <th scope="col">{t('subject.organisation')}</th>
                    {report.includesProfessionals && <th scope="col">{t('log.professional')}</th>}
                    <th scope="col">{t('log.purpose')}</th>
                    <th scope="col">{t('entry.legalBasis')}</th>
                    <th scope="col">{t('subject.categories')}</th>
                    <th scope="col">{t('log.action')}</th>
                    <th scope="col">{t('log.outcome')}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.accesses.map((a, i) => (
                    <tr key={i}>
                      <td>{dateTime(a.occurredAt)}</td>
                      <td>{a.partner?.name ?? t('none')}</td>
                      {report.includesProfessionals && <td>{a.professional ?? t('none')}</td>}
                      <td>{a.purpose?.name ?? t('none')}</td>
                      <td>{a.legalBasis.map((b) => b.citation).join('; ') || t('none')}</td>
                      <td>
                        {a.categories.map((c) => `${c.section}: ${c.description}`).join('; ') || t('none')}
                      </td>
                      <td>
                        {actionWord(t, a.action)}
                        {a.emergency && <span className="badge emergency">{t('log.emergency')}</span>}
                      </td>
                      <td className={`outcome ${a.outcome}`}>{t(`outcome.${a.outcome}`)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
