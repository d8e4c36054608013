import { useEffect, useState } from 'react';
import { api, ApiError, type EventFilters, type TimelineCounts } from '../api';
import { useI18n } from '../i18n';
import { ErrorMessage, Loading } from './Status';

/**
 * Accesses per day (per hour when all fall on one day), stacked by partner, for the whole filter:
 * the gateway counts them (GET /v1/audit/timeline), not the page, so the chart is true however many
 * entries are loaded below it. Hand-made SVG: a few hundred rectangles need no chart library, SVG
 * presentation attributes pass a strict CSP (no inline styles), and the same figures are offered
 * as a table for screen readers and for copying.
 */

/** Colour-blind-safe (Okabe–Ito based), each at least 3:1 against white (WCAG 1.4.11). */
export const PALETTE = [
  '#0063b1',
  '#c0392b',
  '#00796b',
  '#8e44ad',
  '#b35900',
  '#2c3e50',
  '#b0006e',
  '#4d6b00',
];
/** The gateway answers at most this many buckets (MAX_TIMELINE_BUCKETS), so every one gets its bar. */
const MAX_BARS = 400;
const OTHER = '…';

/** Every bucket from the first to the last, so a quiet day (or hour) shows as a gap, not as nothing. */
function continuous(keys: string[], hourly: boolean): string[] {
  const sorted = [...keys].sort();
  const parse = (k: string) => Date.parse(hourly ? `${k.replace(' ', 'T')}:00:00Z` : `${k}T00:00:00Z`);
  const format = (ms: number) => {
    const iso = new Date(ms).toISOString();
    return hourly ? `${iso.slice(0, 10)} ${iso.slice(11, 13)}` : iso.slice(0, 10);
  };
  const step = hourly ? 3_600_000 : 86_400_000;
  const last = parse(sorted.at(-1)!);
  const first = Math.max(parse(sorted[0]!), last - (MAX_BARS - 1) * step);
  const all: string[] = [];
  for (let ms = first; ms <= last; ms += step) all.push(format(ms));
  return all;
}

type State =
  { status: 'loading' } | { status: 'error'; message: string } | { status: 'done'; counts: TimelineCounts };

/** The later (earlier) of an optional filter bound and a bucket's bound, as instants. */
const later = (a: string | undefined, b: string) => (a && Date.parse(a) > Date.parse(b) ? a : b);
const earlier = (a: string | undefined, b: string) => (a && Date.parse(a) < Date.parse(b) ? a : b);

/**
 * The counts for the filters, by day; when they all fall on one day, again by hour within that
 * day (one bar says nothing). `run` changes on every search, so the same filters count again.
 */
export function Timeline({ filters, run }: { filters: EventFilters; run: number }) {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ status: 'loading' });
  useEffect(() => {
    let current = true;
    setState({ status: 'loading' });
    void (async () => {
      try {
        let counts = await api.timeline(filters, 'day');
        const only = counts.buckets.length === 1 ? counts.buckets[0]! : undefined;
        if (only) {
          const day = {
            ...filters,
            from: later(filters.from, only.start),
            to: earlier(filters.to, only.end),
          };
          counts = await api.timeline(day, 'hour');
        }
        if (current) setState({ status: 'done', counts });
      } catch (failure) {
        const detail = failure instanceof ApiError ? failure.sentence(t) : String(failure);
        if (current) setState({ status: 'error', message: t('chart.error', { detail }) });
      }
    })();
    return () => {
      current = false;
    };
  }, [filters, run]);

  if (state.status === 'loading') {
    return (
      <figure className="chart" aria-busy="true">
        <Loading />
      </figure>
    );
  }
  if (state.status === 'error') {
    return (
      <figure className="chart">
        <ErrorMessage message={state.message} />
      </figure>
    );
  }
  if (state.counts.total === 0) {
    return (
      <figure className="chart">
        <p className="empty">{t('chart.empty')}</p>
      </figure>
    );
  }
  return <TimelineChart counts={state.counts} />;
}

function TimelineChart({ counts: answer }: { counts: TimelineCounts }) {
  const { t, language } = useI18n();
  const hourly = answer.bucket === 'hour';
  const byDay = new Map<string, Map<string, number>>();
  const deniedIn = new Map<string, number>();
  const totals = new Map<string, number>();
  for (const b of answer.buckets) {
    const counts = new Map<string, number>();
    for (const c of b.partners) {
      const partner = c.partner ?? t('none');
      counts.set(partner, (counts.get(partner) ?? 0) + c.total);
      totals.set(partner, (totals.get(partner) ?? 0) + c.total);
      deniedIn.set(b.key, (deniedIn.get(b.key) ?? 0) + c.denied);
    }
    byDay.set(b.key, counts);
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  // The busiest partners get their own colour; the rest share one, so colours stay distinguishable.
  const named = ranked.slice(0, PALETTE.length - 1).map(([p]) => p);
  const colourOf = (partner: string) =>
    named.includes(partner) ? PALETTE[named.indexOf(partner)]! : PALETTE[PALETTE.length - 1]!;
  const legend = ranked.length > named.length ? [...named, OTHER] : named;
  const days = byDay.size > 0 ? continuous([...byDay.keys()], hourly) : [];
  for (const d of days) if (!byDay.has(d)) byDay.set(d, new Map());
  const max = Math.max(1, ...days.map((d) => [...byDay.get(d)!.values()].reduce((a, b) => a + b, 0)));

  const width = 720;
  const height = 200;
  const left = 40;
  const bottom = 24;
  const slot = (width - left) / Math.max(days.length, 1);
  const bar = Math.min(48, slot * 0.7);
  const scale = (height - bottom - 8) / max;
  const label = (d: string) =>
    hourly
      ? `${d.slice(11, 13)}:00`
      : new Date(`${d}T12:00:00Z`).toLocaleDateString(language === 'nl' ? 'nl-NL' : 'en-GB', {
          day: 'numeric',
          month: 'short',
          timeZone: 'UTC',
        });

  return (
    <figure className="chart">
      <figcaption>
        <strong>{t(hourly ? 'chart.titleHourly' : 'chart.title')}</strong>{' '}
        {t('chart.caption', { count: answer.total })}
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby="chart-desc" className="timeline">
        <desc id="chart-desc">
          {days
            .map((d) =>
              t('chart.bar', {
                day: label(d),
                count: [...byDay.get(d)!.values()].reduce((a, b) => a + b, 0),
              }),
            )
            .join('; ')}
        </desc>
        <line x1={left} y1={height - bottom} x2={width} y2={height - bottom} stroke="#595959" />
        <text x={left - 6} y={height - bottom} textAnchor="end" className="axis">
          0
        </text>
        <text x={left - 6} y={height - bottom - max * scale + 10} textAnchor="end" className="axis">
          {max}
        </text>
        {days.map((d, i) => {
          let y = height - bottom;
          const x = left + i * slot + (slot - bar) / 2;
          const counts = [...byDay.get(d)!.entries()].sort(
            (a, b) => (named.indexOf(a[0]) + 1 || 99) - (named.indexOf(b[0]) + 1 || 99),
          );
          return (
            <g key={d}>
              {counts.map(([partner, count]) => {
                const h = count * scale;
                y -= h;
                return (
                  <rect key={partner} x={x} y={y} width={bar} height={h} fill={colourOf(partner)}>
                    <title>{`${label(d)} · ${partner}: ${count}`}</title>
                  </rect>
                );
              })}
              {(days.length <= 12 || i % Math.ceil(days.length / 12) === 0) && (
                <text x={x + bar / 2} y={height - 6} textAnchor="middle" className="axis">
                  {label(d)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <ul className="legend" aria-label={t('chart.perPartner')}>
        {legend.map((partner) => (
          <li key={partner}>
            <svg width="12" height="12" aria-hidden="true">
              <rect
                width="12"
                height="12"
                fill={partner === OTHER ? PALETTE[PALETTE.length - 1] : colourOf(partner)}
              />
            </svg>
            {partner}{' '}
            <span className="legend-count">
              {partner === OTHER
                ? ranked.slice(named.length).reduce((a, [, n]) => a + n, 0)
                : totals.get(partner)}
            </span>
          </li>
        ))}
      </ul>
      <details>
        <summary>{t('chart.asTable')}</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{t(hourly ? 'chart.hour' : 'chart.day')}</th>
              {ranked.map(([p]) => (
                <th key={p} scope="col">
                  {p}
                </th>
              ))}
              <th scope="col">{t('chart.denied')}</th>
              <th scope="col">{t('chart.total')}</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => {
              const counts = byDay.get(d)!;
              return (
                <tr key={d}>
                  <th scope="row">{label(d)}</th>
                  {ranked.map(([p]) => (
                    <td key={p}>{counts.get(p) ?? 0}</td>
                  ))}
                  <td>{deniedIn.get(d) ?? 0}</td>
                  <td>{[...counts.values()].reduce((a, b) => a + b, 0)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
