import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/config.js';
import { PolicyVersionRepository } from '../convenant/policy-version.repository.js';
import { PolicyRegistry } from '../convenant/policy.registry.js';
import { BsnCipher } from '../cases/bsn.js';
import { CasesRepository } from '../cases/cases.repository.js';
import { accessSubject, permittedFields } from '../policy/index.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { REAL_CONVENANT } from '../../test/support/app.js';
import { DemoSeeder } from './demo.seeder.js';

describe('DemoSeeder (real PostgreSQL, real convenant)', () => {
  let db: TestDatabase;
  let seeder: DemoSeeder;
  let registry: PolicyRegistry;

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = loadConfig({
      DATABASE_URL: db.url,
      CONVENANT_POLICY_DIR: REAL_CONVENANT,
      POLICY_WATCH: 'false',
    });
    registry = new PolicyRegistry(config, new PolicyVersionRepository(db.dataSource));
    await registry.onModuleInit();
    const cipher = new BsnCipher({ hmacKey: randomBytes(32), encryptionKey: randomBytes(32) });
    seeder = new DemoSeeder(config, db.dataSource, registry, new CasesRepository(db.dataSource), cipher);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('seeds at least 200 cases across every phase, once', async () => {
    expect(await seeder.seed()).toBeGreaterThanOrEqual(200);
    expect(await seeder.seed()).toBe(0);
    const phases = await db.dataSource.query<{ phase: string; n: string }[]>(
      `SELECT phase, count(*) AS n FROM cases GROUP BY phase`,
    );
    expect(phases.map((p) => p.phase).sort()).toEqual(['acute', 'afgesloten', 'herstel', 'stabilisatie']);
    const partners = await db.dataSource.query<{ n: string }[]>(
      `SELECT count(DISTINCT partner) AS n FROM case_participation`,
    );
    expect(Number(partners[0]!.n)).toBeGreaterThanOrEqual(10);
  });

  it('stores no BSN in clear: only hashes and ciphertexts', async () => {
    const clear = await db.dataSource.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM case_field_value WHERE value::text ~ '9999[0-9]{5}'`,
    );
    expect(Number(clear[0]!.n)).toBe(0);
    const sealed = await db.dataSource.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM case_field_value WHERE field_id = 'betrokkenen.bsn' AND value_encrypted IS NOT NULL`,
    );
    expect(Number(sealed[0]!.n)).toBeGreaterThan(0);
  });

  it('records every value by a partner the convenant lets write it', async () => {
    const rows = await db.dataSource.query<
      {
        field_id: string;
        source_partner: string;
        purpose: string;
        phase: string;
        flags: string[];
        role: string | null;
      }[]
    >(
      `SELECT v.field_id, v.source_partner, v.purpose, c.phase, c.flags, p.role
         FROM case_field_value v JOIN cases c ON c.id = v.case_id
         LEFT JOIN case_person p ON p.id = v.person_id`,
    );
    expect(rows.length).toBeGreaterThan(1000);
    const compiled = registry.current();
    for (const row of rows) {
      const subject = accessSubject({
        phase: row.phase === 'afgesloten' ? 'herstel' : (row.phase as 'acute'),
        participant: true,
        flags: row.flags,
        ...(row.role ? { role: row.role as 'slachtoffer' } : {}),
      });
      expect(
        permittedFields(compiled.abilityFor(row.source_partner, row.purpose), 'write', subject),
      ).toContain(row.field_id);
    }
  });
});
