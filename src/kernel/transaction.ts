import type { EntityManager } from 'typeorm';

/**
 * The transaction a service opened with `transaction()` (CasesRepository); passed back into the
 * write methods, and into CasePolicy.record so the access log entries commit with the data.
 * A kernel type: the case, signal and officer services all take it.
 */
export type Tx = EntityManager;
