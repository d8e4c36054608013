import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { verifySegment, type WorkerTask } from './verify-parallel.js';

/**
 * A verification worker (verify-parallel.ts): verifies one segment of the chain on a pool of its
 * own and posts the report, or the error, back. Ends when it has answered.
 */
const task = workerData as WorkerTask;
// Three pages in flight, each on a connection, plus the bounds queries.
const pool = new pg.Pool({ connectionString: task.url, max: 4, application_name: 'convenant-verify' });
try {
  parentPort!.postMessage({ report: await verifySegment(pool, task) });
} catch (error) {
  parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error) });
} finally {
  await pool.end();
}
