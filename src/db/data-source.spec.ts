import { MIGRATIONS } from '../../migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { migrate, pendingMigrations } from './data-source.js';

describe('migrations (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('reports every migration as pending on an empty database, none after migrating', async () => {
    expect(await pendingMigrations(db.dataSource)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await migrate(db.dataSource)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await pendingMigrations(db.dataSource)).toEqual([]);
  });

  it('reverts and re-applies the latest migration cleanly', async () => {
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await pendingMigrations(db.dataSource)).toHaveLength(1);
    await migrate(db.dataSource);
    expect(await pendingMigrations(db.dataSource)).toEqual([]);
  });

  it('creates the policy_version table with its hash constraint', async () => {
    await expect(
      db.dataSource.query(
        `INSERT INTO policy_version (version, convenant, hash, sources) VALUES ('v', 'c', 'not-a-hash', '{}')`,
      ),
    ).rejects.toThrow(/policy_version_hash_check/);
  });
});
