import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, type Judgement, type ReviewQueueItem } from '../api';
import { ruleText, useI18n, type MessageKey } from '../i18n';
import { ErrorMessage, Loading, ViewHeading } from '../components/Status';

const JUDGEMENTS: Judgement[] = ['lawful', 'unlawful', 'unclear'];

/** The emergency access review queue: judge each doorbraak, with a comment. */
export function Emergency() {
  const { t } = useI18n();
  const [status, setStatus] = useState<'pending' | 'reviewed'>('pending');
  const [items, setItems] = useState<ReviewQueueItem[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function load(which: 'pending' | 'reviewed') {
    setLoading(true);
    setError(null);
    try {
      setItems((await api.emergencyReviews(which)).items);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.sentence(t) : String(failure));
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    void load(status);
  }, [status]);

  return (
    <section>
      <ViewHeading>{t('emergency.title')}</ViewHeading>
      <p>{t('emergency.intro')}</p>
      <fieldset className="toggle">
        <legend>{t('emergency.show')}</legend>
        {(['pending', 'reviewed'] as const).map((which) => (
          <label key={which}>
            <input
              type="radio"
              name="status"
              value={which}
              checked={status === which}
              onChange={() => {
                setDone(null);
                setStatus(which);
              }}
            />
            {t(`emergency.${which}`)}
          </label>
        ))}
      </fieldset>
      {done && (
        <p className="success" role="status">
          {done}
        </p>
      )}
      <ErrorMessage message={error} />
      {loading && <Loading />}
      {items && !loading && items.length === 0 && (
        <p className="empty">{t(status === 'pending' ? 'emergency.empty' : 'emergency.emptyReviewed')}</p>
      )}
      <ul className="queue">
        {items?.map((item) => (
          <QueueItem
            key={item.entry.seq}
            item={item}
            onReviewed={(message) => {
              setDone(message);
              setItems((previous) => previous?.filter((other) => other.entry.seq !== item.entry.seq) ?? null);
            }}
          />
        ))}
      </ul>
    </section>
  );
}

function QueueItem({ item, onReviewed }: { item: ReviewQueueItem; onReviewed: (message: string) => void }) {
  const { t, dateTime } = useI18n();
  const { entry, review } = item;
  const [judgement, setJudgement] = useState<Judgement | ''>('');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `review-${entry.seq}`;
  const word = (j: Judgement) => t(`emergency.${j}` as MessageKey);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!judgement) return setError(t('emergency.needJudgement'));
    if (!comment.trim()) return setError(t('emergency.needComment'));
    setBusy(true);
    setError(null);
    try {
      await api.review(entry.seq, judgement, comment.trim());
      onReviewed(t('emergency.recorded', { seq: entry.seq, judgement: word(judgement) }));
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.sentence(t) : String(failure));
      setBusy(false);
    }
  }

  return (
    <li className="panel" data-seq={entry.seq}>
      <h2 id={`${id}-title`}>
        {t('emergency.item', { seq: entry.seq, partner: entry.partner ?? t('none') })}
      </h2>
      <dl className="compact">
        <div>
          <dt>{t('log.when')}</dt>
          <dd>{dateTime(entry.occurredAt)}</dd>
        </div>
        <div>
          <dt>{t('log.professional')}</dt>
          <dd>{entry.professional ?? t('none')}</dd>
        </div>
        <div>
          <dt>{t('log.purpose')}</dt>
          <dd>{entry.purpose ?? t('none')}</dd>
        </div>
        <div>
          <dt>{t('log.case')}</dt>
          <dd className="mono">{entry.caseId ?? t('none')}</dd>
        </div>
        <div>
          <dt>{t('log.subject')}</dt>
          <dd className="mono">{entry.dataSubjectRef ?? t('none')}</dd>
        </div>
        <div>
          <dt>{t('log.fields')}</dt>
          <dd>{entry.fields.join(', ') || t('none')}</dd>
        </div>
        <div>
          <dt>{t('entry.reason')}</dt>
          <dd>{entry.reason ?? t('none')}</dd>
        </div>
        <div>
          <dt>{t('entry.rule')}</dt>
          <dd>{ruleText(t, entry)}</dd>
        </div>
        <div>
          <dt>{t('entry.legalBasis')}</dt>
          <dd>{entry.legalBasis.join(', ') || t('none')}</dd>
        </div>
        <div>
          <dt>{t('entry.policyVersion')}</dt>
          <dd>{entry.policyVersion ?? t('none')}</dd>
        </div>
      </dl>
      {review ? (
        <p className="reviewed">
          {t('emergency.reviewedBy', {
            judgement: word(review.judgement),
            by: review.reviewedBy,
            when: dateTime(review.reviewedAt),
            comment: review.comment,
          })}
        </p>
      ) : (
        <form onSubmit={(event) => void submit(event)} noValidate aria-labelledby={`${id}-title`}>
          <fieldset>
            <legend>{t('emergency.judgement')}</legend>
            {JUDGEMENTS.map((j) => (
              <label key={j} className="inline">
                <input
                  type="radio"
                  name={`${id}-judgement`}
                  value={j}
                  checked={judgement === j}
                  onChange={() => setJudgement(j)}
                />
                {word(j)}
              </label>
            ))}
          </fieldset>
          <div className="field">
            <label htmlFor={`${id}-comment`}>{t('emergency.comment')}</label>
            <textarea
              id={`${id}-comment`}
              rows={3}
              maxLength={2000}
              value={comment}
              onChange={(event) => setComment(event.target.value)}
            />
          </div>
          <ErrorMessage message={error} />
          <button type="submit" disabled={busy}>
            {t('emergency.submit')}
          </button>
        </form>
      )}
    </li>
  );
}
