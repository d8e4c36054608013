import { MIGRATIONS } from '../../../migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { run } from '../program.js';

describe('convenant db (real PostgreSQL)', () => {
  let db: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    env = { DATABASE_URL: db.url };
  });
  afterAll(async () => {
    await db.drop();
  });

  it('reports pending migrations, applies them, reverts the last one', async () => {
    const before = await run(['db', 'status'], env);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain(`Pending: ${MIGRATIONS.map((m) => m.name).join(', ')}`);

    const applied = await run(['db', 'migrate'], env);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Applied:');
    expect((await run(['db', 'status'], env)).stdout).toContain('The schema is current.');
    expect((await run(['db', 'migrate'], env)).stdout).toContain('Nothing to apply');

    const reverted = await run(['db', 'revert'], env);
    expect(reverted.stdout).toContain(`Pending now: ${MIGRATIONS.at(-1)!.name}`);
    expect((await run(['db', 'migrate'], env)).code).toBe(0);
  });

  it('refuses a migration name that is not PascalCase', async () => {
    const result = await run(['db', 'generate', 'add stuff'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('must be PascalCase');
  });
});
