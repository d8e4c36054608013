import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AccessLogEntry } from '../access-log/access-log.types.js';
import { BSN_CIPHER, BsnCipher } from '../cases/bsn.js';
import { CasePolicy, type PolicyInForce } from '../cases/case-policy.js';
import type { Actor } from '../kernel/actor.js';
import type { Tx } from '../kernel/transaction.js';
import { basisPermitting } from '../policy/index.js';
import { NoBsnBasisError, SignalNotFoundError, SignalWithdrawnError } from './signals.errors.js';
import { SignalsRepository, type MatchRow, type SignalRow } from './signals.repository.js';

export interface InvolvedPartner {
  partner: string;
  name: string;
  /** How to reach them: the contact given with their signal, else the convenant's partner contact. */
  contact: string | null;
  since: string;
}

export interface SignalView {
  id: string;
  purpose: string;
  signalledAt: string;
  withdrawnAt: string | null;
  /** Whether the convenant lets this purpose learn of other partners involved (involvement_matches). */
  disclosed: boolean;
  /** Other partners that signalled the same person; empty when `disclosed` is false. */
  involved: InvolvedPartner[];
}

const MAX_LISTED = 200;

/**
 * The verwijsindex: a partner signals "we are involved with this person" by BSN; the gateway keeps
 * only the keyed hash (the same HMAC as for BSNs in cases, so a case can later be found by it).
 * When partners signal the same person, each learns which other partners are involved and how to
 * reach them, nothing else, and only where the convenant's purpose says `involvement_matches`,
 * for the caller's purpose and for the purpose of the other signal alike. Every signal, every
 * withdrawal and every disclosure is logged, without the BSN.
 */
@Injectable()
export class SignalsService {
  constructor(
    private readonly policy: CasePolicy,
    private readonly signals: SignalsRepository,
    @Inject(BSN_CIPHER) private readonly bsn: BsnCipher,
  ) {}

  async signal(actor: Actor, input: { bsn: string; contact?: string }): Promise<SignalView> {
    const policy = this.policy.inForce(actor);
    // Before the BSN is touched: no basis of this purpose for this partner permits it, no hash.
    const convenant = policy.compiled.convenant;
    const partner = convenant.partners.find((p) => p.id === actor.partner);
    const basis = partner && basisPermitting(convenant, partner, actor.purpose, 'bsn');
    if (!basis) {
      const refusal = new NoBsnBasisError(actor.partner, actor.purpose);
      await this.policy.record([this.entry(actor, policy, refusal.message, 'denied')]);
      throw refusal;
    }
    return this.signals.transaction(async (tx) => {
      const row = await this.signals.insert(tx, {
        id: randomUUID(),
        partner: actor.partner,
        purpose: actor.purpose,
        professional: actor.professional,
        personHash: this.bsn.hash(input.bsn),
        contact: input.contact ?? null,
      });
      const matches = (await this.signals.matches([row.id], tx)).get(row.id) ?? [];
      const view = this.view(policy, row, matches);
      await this.policy.record(
        [
          this.entry(actor, policy, `Signalled involvement with a person (signal ${row.id}).`),
          ...this.disclosureEntries(actor, policy, [view]),
        ],
        tx,
      );
      return view;
    });
  }

  /** The caller's live signals under its purpose, each with the other partners involved. */
  async list(actor: Actor): Promise<{ items: SignalView[] }> {
    const policy = this.policy.inForce(actor);
    const rows = await this.signals.live(actor.partner, actor.purpose, MAX_LISTED);
    const matches = await this.signals.matches(rows.map((r) => r.id));
    const items = rows.map((r) => this.view(policy, r, matches.get(r.id) ?? []));
    await this.policy.record([
      this.entry(actor, policy, `Listed its ${items.length} live involvement signal(s).`),
      ...this.disclosureEntries(actor, policy, items),
    ]);
    return { items };
  }

  /** Withdraws one of the caller's partner's signals: it no longer matches, for anyone. */
  async withdraw(actor: Actor, id: string): Promise<SignalView> {
    const policy = this.policy.inForce(actor);
    const outcome = await this.signals.transaction(
      async (tx: Tx): Promise<{ view: SignalView } | { refusal: Error }> => {
        const own = await this.signals.ownSignal(tx, id, actor.partner);
        const refusal = !own
          ? new SignalNotFoundError()
          : own.withdrawnAt
            ? new SignalWithdrawnError()
            : undefined;
        if (refusal) {
          await this.policy.record([this.entry(actor, policy, refusal.message, 'denied')], tx);
          return { refusal };
        }
        const row = await this.signals.withdraw(tx, id, actor.professional);
        await this.policy.record([this.entry(actor, policy, `Withdrew involvement signal ${id}.`)], tx);
        return { view: this.view(policy, row, []) };
      },
    );
    if ('refusal' in outcome) throw outcome.refusal;
    return outcome.view;
  }

  private view(policy: PolicyInForce, row: SignalRow, matches: readonly MatchRow[]): SignalView {
    const compiled = policy.compiled;
    const allows = (purpose: string) => {
      const found = compiled.convenant.purposes.find((p) => p.id === purpose);
      return found?.involvementMatches === true;
    };
    const disclosed = allows(row.purpose);
    const involved = new Map<string, InvolvedPartner>();
    if (disclosed) {
      for (const m of matches) {
        if (!allows(m.purpose) || involved.has(m.partner)) continue;
        const partner = compiled.convenant.partners.find((p) => p.id === m.partner);
        involved.set(m.partner, {
          partner: m.partner,
          name: partner?.name ?? m.partner,
          contact: m.contact ?? partner?.contact ?? null,
          since: m.signalledAt.toISOString(),
        });
      }
    }
    return {
      id: row.id,
      purpose: row.purpose,
      signalledAt: row.signalledAt.toISOString(),
      withdrawnAt: row.withdrawnAt?.toISOString() ?? null,
      disclosed,
      involved: [...involved.values()],
    };
  }

  /** One entry per signal whose answer names other partners: who learnt of whom. */
  private disclosureEntries(
    actor: Actor,
    policy: PolicyInForce,
    views: readonly SignalView[],
  ): AccessLogEntry[] {
    return views
      .filter((v) => v.involved.length > 0)
      .map((v) =>
        this.entry(
          actor,
          policy,
          `Disclosed that ${v.involved.map((i) => i.partner).join(', ')} signalled involvement with the ` +
            `same person as signal ${v.id} (involvement_matches under ${actor.purpose}).`,
        ),
      );
  }

  private entry(
    actor: Actor,
    policy: PolicyInForce,
    reason: string,
    status: 'allowed' | 'denied' = 'allowed',
  ): AccessLogEntry {
    return this.policy.entry(actor, policy, {
      action: 'signal',
      caseId: null,
      dataSubjectRef: null,
      fields: [],
      status,
      ruleId: null,
      reason,
      legalBasis: policy.access.purposeLegalBasis(actor.purpose),
    });
  }
}
