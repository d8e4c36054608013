import Fastify from 'fastify';
import pg from 'pg';
import { READ_FOR_PARTNER_SQL } from '../src/cases/cases.repository.js';

/**
 * The bare peer `npm run bench` compares the gateway with, in a process of its own: Fastify and a
 * pg pool of 20 running the very statement readForPartner runs, with no Nest, token, policy or
 * access log. What the gateway costs on top of a plain read is the difference.
 * Env: DATABASE_URL, PORT, BENCH_PARTNER, BENCH_PURPOSE, BENCH_FIELDS (comma-separated field ids).
 * Prints `READY {json}` with its port and pid when it listens.
 */
async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} must be set`);
    return value;
  };
  const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 20 });
  const partner = env('BENCH_PARTNER');
  const purpose = env('BENCH_PURPOSE');
  const fields = env('BENCH_FIELDS').split(',');
  const app = Fastify({ logger: false });
  app.get<{ Params: { id: string } }>('/peer/cases/:id', async (request, reply) => {
    const result = await pool.query({
      name: 'peer_read_for_partner',
      text: READ_FOR_PARTNER_SQL,
      values: [request.params.id, partner, purpose, fields, 'bench-peer'],
    });
    if (result.rows.length === 0) return reply.code(404).send({ title: 'Not found' });
    return result.rows[0] as unknown;
  });
  const address = await app.listen({ host: '127.0.0.1', port: Number(env('PORT')) });
  process.on('SIGTERM', () => {
    void app.close().then(() => pool.end());
  });
  process.stdout.write(`READY ${JSON.stringify({ url: address, pid: String(process.pid) })}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
