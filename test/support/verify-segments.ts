import type { ChainSource } from '../../src/access-log/chain.repository.js';
import {
  verifyInParallel,
  verifySegment,
  type ParallelVerifyInput,
} from '../../src/access-log/verify-parallel.js';
import type { VerifyReport } from '../../src/access-log/verify.js';

/**
 * verifyInParallel as the workers run it, but with every segment run here on `source` (a
 * transaction's manager, so it sees the tampering the test has not committed): three segments at
 * most, whatever the chain's length, so short test chains are split too.
 */
export function inSegments(
  source: ChainSource,
  input: Pick<ParallelVerifyInput, 'checkpoints' | 'purged' | 'publicJwk' | 'now'>,
): Promise<VerifyReport> {
  return verifyInParallel({
    ...input,
    source,
    workers: 3,
    minimum: 0,
    runSegment: (task) => verifySegment(source, task),
  });
}
