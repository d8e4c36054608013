import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../kernel/transaction.js';

/** An involvement signal as stored: the person only as a keyed hash, never a BSN. */
export interface SignalRow {
  id: string;
  partner: string;
  purpose: string;
  contact: string | null;
  signalledAt: Date;
  withdrawnAt: Date | null;
}

/** Another partner's live signal on the same person. */
export interface MatchRow {
  signalId: string;
  partner: string;
  purpose: string;
  contact: string | null;
  signalledAt: Date;
}

const SIGNAL_COLUMNS = `s.id, s.partner, s.purpose, s.contact, s.signalled_at AS "signalledAt",
  s.withdrawn_at AS "withdrawnAt"`;

/** SQL of the verwijsindex. Matching is by equal keyed hash; the service decides what may be disclosed. */
@Injectable()
export class SignalsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async insert(
    tx: Tx,
    signal: {
      id: string;
      partner: string;
      purpose: string;
      professional: string;
      personHash: Buffer;
      contact: string | null;
    },
  ): Promise<SignalRow> {
    const rows = await tx.query<SignalRow[]>(
      `INSERT INTO involvement_signal AS s (id, partner, purpose, professional, person_hash, contact)
       VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING ${SIGNAL_COLUMNS}`,
      [signal.id, signal.partner, signal.purpose, signal.professional, signal.personHash, signal.contact],
    );
    return rows[0]!;
  }

  /** Live signals of other partners on the same person as each of `signalIds`, oldest first. */
  async matches(signalIds: readonly string[], tx?: Tx): Promise<Map<string, MatchRow[]>> {
    const out = new Map<string, MatchRow[]>(signalIds.map((id) => [id, []]));
    if (signalIds.length === 0) return out;
    const rows = await (tx ?? this.dataSource.manager).query<(MatchRow & { forSignal: string })[]>(
      `SELECT mine.id AS "forSignal", o.id AS "signalId", o.partner, o.purpose, o.contact,
              o.signalled_at AS "signalledAt"
         FROM involvement_signal mine
         JOIN involvement_signal o
           ON o.person_hash = mine.person_hash AND o.partner <> mine.partner AND o.withdrawn_at IS NULL
        WHERE mine.id = ANY ($1::uuid[])
        ORDER BY o.signalled_at, o.id`,
      [signalIds],
    );
    for (const { forSignal, ...match } of rows) out.get(forSignal)!.push(match);
    return out;
  }

  /** The partner's live signals under a purpose, newest first. */
  async live(partner: string, purpose: string, limit: number): Promise<SignalRow[]> {
    return this.dataSource.query<SignalRow[]>(
      `SELECT ${SIGNAL_COLUMNS} FROM involvement_signal s
        WHERE s.partner = $1 AND s.purpose = $2 AND s.withdrawn_at IS NULL
        ORDER BY s.signalled_at DESC, s.id
        LIMIT $3`,
      [partner, purpose, limit],
    );
  }

  /** The signal if it belongs to `partner`, locked for the withdrawal. */
  async ownSignal(tx: Tx, id: string, partner: string): Promise<SignalRow | undefined> {
    const rows = await tx.query<SignalRow[]>(
      `SELECT ${SIGNAL_COLUMNS} FROM involvement_signal s WHERE s.id = $1 AND s.partner = $2 FOR UPDATE`,
      [id, partner],
    );
    return rows[0];
  }

  async withdraw(tx: Tx, id: string, professional: string): Promise<SignalRow> {
    const rows = await tx.query<[SignalRow[], number]>(
      `UPDATE involvement_signal s SET withdrawn_at = now(), withdrawn_by_professional = $2
        WHERE s.id = $1
        RETURNING ${SIGNAL_COLUMNS}`,
      [id, professional],
    );
    return rows[0][0]!;
  }
}
