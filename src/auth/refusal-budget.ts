import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { Metrics } from '../ops/metrics.js';

/** Refusals are budgeted per client address in windows of this length (the rate limits' minute). */
export const REFUSAL_WINDOW_MS = 60_000;

/** Addresses tracked at once; beyond this a flood from many addresses is only counted. */
const MAX_TRACKED = 10_000;

export type RefusalEndpoint = 'token' | 'api';

interface Window {
  endpoint: RefusalEndpoint;
  start: number;
  logged: number;
  suppressed: number;
}

/** A window whose refusals beyond the budget are to be summed up in one access log entry. */
export interface RefusalSummary {
  endpoint: RefusalEndpoint;
  start: Date;
  end: Date;
  suppressed: number;
}

/**
 * Keeps the access log meaningful under a flood. A refusal that never reached a partner identity
 * or a case (no token, a token that does not verify, an assertion from no partner of the
 * convenant) says nothing about anybody's data; written one by one, a flood of them would bury
 * the entries officers review and grow an append-only table for free. So per client address and
 * minute the first ANON_REFUSAL_LOG_BUDGET are logged in full and the rest are counted, then
 * summed up in one entry when the window ends. Every refusal is counted in
 * convenant_anonymous_refusals_total. Refusals naming a partner or a case never pass through here.
 */
@Injectable()
export class AnonymousRefusalBudget {
  private readonly windows = new Map<string, Window>();
  /**
   * Requests already counted as summarised: a refusal can be offered twice (by the guard, then by
   * the exception filter, which finds no entry of it). Cleared when it grows past MAX_TRACKED.
   */
  private readonly summarisedTraces = new Set<string>();
  private readonly refusals: Counter<'endpoint' | 'logged'>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: Metrics,
  ) {
    this.refusals = new Counter({
      name: 'convenant_anonymous_refusals_total',
      help:
        'Refusals of requests that named no partner and no case, by endpoint (token or api) and whether ' +
        'they got an access log entry of their own (individually) or were summed up (summarised).',
      labelNames: ['endpoint', 'logged'],
      registers: [metrics.registry],
    });
  }

  /** Whether this refusal gets an entry of its own; counted either way. */
  admit(address: string, endpoint: RefusalEndpoint, traceId: string, now = Date.now()): boolean {
    if (this.summarisedTraces.has(traceId)) return false;
    const admitted = this.decide(address, endpoint, now);
    if (!admitted) {
      if (this.summarisedTraces.size >= MAX_TRACKED) this.summarisedTraces.clear();
      this.summarisedTraces.add(traceId);
    }
    return admitted;
  }

  private decide(address: string, endpoint: RefusalEndpoint, now: number): boolean {
    const key = `${endpoint}|${address}`;
    let window = this.windows.get(key);
    if (window && now - window.start >= REFUSAL_WINDOW_MS && window.suppressed === 0) {
      this.windows.delete(key);
      window = undefined;
    }
    if (!window) {
      if (this.windows.size >= MAX_TRACKED) {
        this.refusals.inc({ endpoint, logged: 'summarised' });
        return false;
      }
      window = { endpoint, start: now, logged: 0, suppressed: 0 };
      this.windows.set(key, window);
    }
    // A window that ended with refusals still to sum up keeps counting into its summary until it is taken.
    if (window.logged < this.config.anonRefusalLogBudget && now - window.start < REFUSAL_WINDOW_MS) {
      window.logged++;
      this.refusals.inc({ endpoint, logged: 'individually' });
      return true;
    }
    window.suppressed++;
    this.refusals.inc({ endpoint, logged: 'summarised' });
    return false;
  }

  /** Removes and returns the windows that have ended with refusals not logged one by one. */
  takeEnded(now = Date.now()): RefusalSummary[] {
    const out: RefusalSummary[] = [];
    if (this.windows.size === 0) this.summarisedTraces.clear();
    for (const [key, window] of this.windows) {
      if (now - window.start < REFUSAL_WINDOW_MS) continue;
      this.windows.delete(key);
      if (window.suppressed > 0) {
        out.push({
          endpoint: window.endpoint,
          start: new Date(window.start),
          end: new Date(Math.max(now, window.start + REFUSAL_WINDOW_MS)),
          suppressed: window.suppressed,
        });
      }
    }
    return out;
  }
}
