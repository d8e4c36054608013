import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError, type AuditEvent, type EventFilters } from '../api';
import type { Handoff } from '../App';
import { ruleText, useI18n, type MessageKey } from '../i18n';
import type { View } from '../router';
import { ErrorMessage, Loading, ViewHeading } from '../components/Status';
import { Timeline } from '../components/Timeline';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
type Form = Record<'from' | 'to' | 'caseId' | 'partner' | 'purpose' | 'outcome' | 'emergency', string>;
const EMPTY: Form = { from: '', to: '', caseId: '', partner: '', purpose: '', outcome: '', emergency: '' };

/** datetime-local gives local wall time without a zone; the API wants an instant. */
function toInstant(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function filtersOf(form: Form): EventFilters {
  const filters: EventFilters = {};
  const from = toInstant(form.from);
  const to = toInstant(form.to);
  if (from) filters.from = from;
  if (to) filters.to = to;
  for (const name of ['caseId', 'partner', 'purpose', 'outcome', 'emergency'] as const) {
    const value = form[name].trim();
    if (value) filters[name] = value;
  }
  return filters;
}

function formOf(filters: EventFilters | undefined): Form {
  return {
    ...EMPTY,
    ...Object.fromEntries(Object.entries(filters ?? {}).filter(([name]) => name !== 'from' && name !== 'to')),
    from: toLocalInput(filters?.from),
    to: toLocalInput(filters?.to),
  };
}

const ACTIONS = new Set(['authenticate', 'list', 'read', 'write', 'manage', 'history', 'audit']);

export function actionWord(t: (key: MessageKey) => string, action: string): string {
  return ACTIONS.has(action) ? t(`action.${action}` as MessageKey) : action;
}

export function AccessLog({
  initial,
  go,
}: {
  initial: EventFilters | undefined;
  go: (view: View, data?: Handoff) => void;
}) {
  const { t, dateTime } = useI18n();
  const [form, setForm] = useState<Form>(() => formOf(initial));
  const [items, setItems] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<AuditEvent | null>(null);
  // Counts up on each search (not on "load more"), so the chart counts the filter again.
  const [search, setSearch] = useState(0);
  const active = useRef<EventFilters>(initial ?? {});
  const opener = useRef<HTMLButtonElement | null>(null);

  async function load(filters: EventFilters, after?: string) {
    setLoading(true);
    setError(null);
    if (!after) setSearch((n) => n + 1);
    try {
      const page = await api.events(filters, after);
      setItems((previous) => (after ? [...previous, ...page.items] : page.items));
      setCursor(page.nextCursor);
      setLoaded(true);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.sentence(t) : String(failure));
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    void load(active.current);
    // The first page loads once, with the filters the view was opened with.
  }, []);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (form.caseId.trim() && !UUID.test(form.caseId.trim())) {
      setError(t('log.invalidCase'));
      return;
    }
    const filters = filtersOf(form);
    if (filters.from && filters.to && filters.from >= filters.to) {
      setError(t('log.invalidRange'));
      return;
    }
    active.current = filters;
    setSelected(null);
    void load(filters);
  }

  const set = (name: keyof Form) => (event: { target: { value: string } }) =>
    setForm((previous) => ({ ...previous, [name]: event.target.value }));
  const partners = [...new Set(items.map((e) => e.partner).filter((p): p is string => p !== null))].sort();
  const purposes = [...new Set(items.map((e) => e.purpose).filter((p): p is string => p !== null))].sort();

  return (
    <section>
      <ViewHeading>{t('log.title')}</ViewHeading>
      <p>{t('log.intro')}</p>
      <form className="filters" onSubmit={submit} noValidate aria-label={t('log.filters')}>
        <div className="field">
          <label htmlFor="f-from">{t('log.from')}</label>
          <input id="f-from" type="datetime-local" value={form.from} onChange={set('from')} />
        </div>
        <div className="field">
          <label htmlFor="f-to">{t('log.to')}</label>
          <input id="f-to" type="datetime-local" value={form.to} onChange={set('to')} />
        </div>
        <div className="field wide">
          <label htmlFor="f-case">{t('log.case')}</label>
          <input id="f-case" type="text" spellCheck={false} value={form.caseId} onChange={set('caseId')} />
        </div>
        <div className="field">
          <label htmlFor="f-partner">{t('log.partner')}</label>
          <input
            id="f-partner"
            type="text"
            list="partners"
            spellCheck={false}
            value={form.partner}
            onChange={set('partner')}
          />
          <datalist id="partners">
            {partners.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="f-purpose">{t('log.purpose')}</label>
          <input
            id="f-purpose"
            type="text"
            list="purposes"
            spellCheck={false}
            value={form.purpose}
            onChange={set('purpose')}
          />
          <datalist id="purposes">
            {purposes.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="f-outcome">{t('log.outcome')}</label>
          <select id="f-outcome" value={form.outcome} onChange={set('outcome')}>
            <option value="">{t('any')}</option>
            <option value="allowed">{t('outcome.allowed')}</option>
            <option value="denied">{t('outcome.denied')}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-emergency">{t('log.emergency')}</label>
          <select id="f-emergency" value={form.emergency} onChange={set('emergency')}>
            <option value="">{t('any')}</option>
            <option value="true">{t('yes')}</option>
            <option value="false">{t('no')}</option>
          </select>
        </div>
        <div className="actions">
          <button type="submit">{t('log.search')}</button>
          <button type="button" className="secondary" onClick={() => setForm(EMPTY)}>
            {t('log.reset')}
          </button>
        </div>
      </form>

      <ErrorMessage message={error} />
      {loaded && <Timeline filters={active.current} run={search} />}
      {loading && <Loading />}
      {loaded && items.length === 0 && !loading && !error && <p className="empty">{t('log.empty')}</p>}
      {items.length > 0 && (
        <>
          <p className="count" aria-live="polite">
            {t(cursor ? 'log.countMore' : 'log.count', { count: items.length })}
          </p>
          <div className={selected ? 'with-detail' : undefined}>
            <div className="table-wrap" tabIndex={0} role="region" aria-label={t('log.table')}>
              <table className="log">
                <caption>{t('log.table')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('log.when')}</th>
                    <th scope="col">{t('log.partner')}</th>
                    <th scope="col">{t('log.purpose')}</th>
                    <th scope="col">{t('log.action')}</th>
                    <th scope="col">{t('log.case')}</th>
                    <th scope="col">{t('log.outcome')}</th>
                    <th scope="col">
                      <span className="visually-hidden">{t('log.open')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((e) => (
                    <tr
                      key={e.seq}
                      data-seq={e.seq}
                      className={selected?.seq === e.seq ? 'selected' : undefined}
                    >
                      <td>{dateTime(e.occurredAt)}</td>
                      <td className="partner">{e.partner ?? t('none')}</td>
                      <td className="purpose">{e.purpose ?? t('none')}</td>
                      <td>
                        {actionWord(t, e.action)}
                        {e.emergency && <span className="badge emergency">{t('log.emergency')}</span>}
                      </td>
                      <td className="mono">{e.caseId ? e.caseId.slice(0, 8) : t('none')}</td>
                      <td className={`outcome ${e.outcome}`}>{t(`outcome.${e.outcome}`)}</td>
                      <td>
                        <button
                          type="button"
                          className="small secondary"
                          aria-label={t('log.openEntry', { seq: e.seq })}
                          onClick={(event) => {
                            opener.current = event.currentTarget;
                            setSelected(e);
                          }}
                        >
                          {t('log.open')}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {selected && (
              <EntryDetail
                entry={selected}
                onClose={() => {
                  setSelected(null);
                  opener.current?.focus();
                }}
                go={go}
              />
            )}
          </div>
          {cursor && (
            <button
              type="button"
              className="secondary more"
              disabled={loading}
              onClick={() => void load(active.current, cursor)}
            >
              {t('log.more')}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function EntryDetail({
  entry,
  onClose,
  go,
}: {
  entry: AuditEvent;
  onClose: () => void;
  go: (view: View, data?: Handoff) => void;
}) {
  const { t, dateTime } = useI18n();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [entry.seq]);
  const rows: [string, string][] = [
    [t('entry.seq'), entry.seq],
    [t('log.when'), dateTime(entry.occurredAt)],
    [t('log.partner'), entry.partner ?? t('none')],
    [t('log.professional'), entry.professional ?? t('none')],
    [t('log.purpose'), entry.purpose ?? t('none')],
    [t('log.action'), actionWord(t, entry.action)],
    [t('log.outcome'), t(`outcome.${entry.outcome}`)],
    [t('log.emergency'), entry.emergency ? t('yes') : t('no')],
    [t('log.case'), entry.caseId ?? t('none')],
    [t('log.subject'), entry.dataSubjectRef ?? t('none')],
    [t('log.fields'), entry.fields.join(', ') || t('none')],
    [t('entry.rule'), ruleText(t, entry)],
    [t('entry.policyVersion'), entry.policyVersion ?? t('none')],
    [t('entry.legalBasis'), entry.legalBasis.join(', ') || t('none')],
    [t('entry.reason'), entry.reason ?? t('none')],
    [t('entry.trace'), entry.traceId],
  ];
  return (
    <aside className="detail" aria-labelledby="entry-title">
      <h2 id="entry-title" ref={heading} tabIndex={-1}>
        {t('entry.title', { seq: entry.seq })}
      </h2>
      <dl>
        {rows.map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <div className="actions">
        {entry.dataSubjectRef && (
          <button type="button" onClick={() => go('subject', { subjectRef: entry.dataSubjectRef! })}>
            {t('entry.openSubject')}
          </button>
        )}
        {entry.caseId && (
          <button
            type="button"
            className="secondary"
            onClick={() => go('log', { filters: { caseId: entry.caseId! } })}
          >
            {t('entry.filterCase')}
          </button>
        )}
        <button type="button" className="secondary" onClick={onClose}>
          {t('entry.close')}
        </button>
      </div>
    </aside>
  );
}
