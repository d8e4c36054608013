import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AccessLogRepository } from '../../src/access-log/access-log.repository.js';
import { sealRound } from '../../src/access-log/access-log.sealer.js';
import type { GatewayKey } from '../../src/keys/gateway-key.js';

/**
 * Appends `count` denial entries (no case, no person, reason `r<i>`) and seals after every tenth
 * with a checkpoint, so `count` = 25 leaves 20 sealed entries, 2 checkpoints and 5 pending.
 */
export async function appendSealedDenials(
  dataSource: DataSource,
  key: GatewayKey,
  count: number,
): Promise<void> {
  const log = new AccessLogRepository(dataSource);
  for (let i = 0; i < count; i++) {
    await log.append([
      {
        requestId: null,
        traceId: randomBytes(16).toString('hex'),
        partner: 'politie',
        professional: 'p',
        purpose: 'triage',
        legalBasis: [],
        action: 'read',
        caseId: null,
        dataSubjectRef: null,
        fields: [],
        status: 'denied',
        ruleId: null,
        reason: `r${i}`,
        policyVersion: null,
        emergency: false,
      },
    ]);
    if (i % 10 === 9) await sealRound(dataSource, key, { checkpointEvery: 10, checkpointIntervalMs: 60_000 });
  }
}
