import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from '../cli/program.js';
import { loadConfig } from '../config/config.js';
import { PolicyVersionRepository } from '../kernel/policy-version.repository.js';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import { BsnCipher } from '../cases/bsn.js';
import { CasesRepository } from '../cases/cases.repository.js';
import { caseReferencePrefix } from '../cases/identifiers.js';
import { bsnFieldOf } from '../cases/cases.service.js';
import { CLOSED_PHASE, RUNNING_PHASES } from '../cases/phase.js';
import { accessSubject, PHASES, permittedFields, type Phase } from '../policy/index.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { EXAMPLE_CONVENANTS } from '../../test/support/app.js';
import { controllersOf, DEMO_CASE_COUNT, DemoSeeder } from './demo.seeder.js';

// Any valid convenant, not only the two examples: also the one `convenant init` starts a region with.
const scaffolded = path.join(await mkdtemp(path.join(os.tmpdir(), 'convenant-demo-')), 'nieuwe-regio');
if ((await run(['init', scaffolded])).code !== 0) throw new Error('convenant init failed');

describe.each([...EXAMPLE_CONVENANTS, { name: 'convenant init', dir: scaffolded }])(
  'DemoSeeder (real PostgreSQL, convenant $name)',
  ({ dir }) => {
    let db: TestDatabase;
    let seeder: DemoSeeder;
    let registry: PolicyRegistry;

    beforeAll(async () => {
      db = await createTestDatabase();
      const config = loadConfig({
        DATABASE_URL: db.url,
        CONVENANT_POLICY_DIR: dir,
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
      expect(phases.map((p) => p.phase).sort()).toEqual([...PHASES].sort());
      const convenant = registry.current().convenant;
      // Every partner that can take part does so somewhere; the officers never do.
      const partners = await db.dataSource.query<{ partner: string }[]>(
        `SELECT DISTINCT partner FROM case_participation ORDER BY partner`,
      );
      const officers = convenant.partners.filter((p) => p.kind === 'toezicht').map((p) => p.id);
      expect(partners.map((p) => p.partner)).toEqual(
        convenant.partners
          .map((p) => p.id)
          .filter((id) => !officers.includes(id))
          .sort(),
      );
    }, 120_000);

    it('brings cases in by partners of this convenant that may manage them, under its reference prefix', async () => {
      const compiled = registry.current();
      const rows = await db.dataSource.query<{ controller_partner: string; reference: string }[]>(
        `SELECT controller_partner, reference FROM cases`,
      );
      const controllers = controllersOf(compiled);
      expect(new Set(rows.map((r) => r.controller_partner))).toEqual(new Set(controllers));
      const prefix = caseReferencePrefix(compiled.convenant.id);
      for (const row of rows) expect(row.reference).toMatch(new RegExp(`^${prefix}-\\d{4}-\\d{6}$`));
    });

    it('has closed cases of three and six years ago, so a retention dry run on the demo lists something', async () => {
      const rows = await db.dataSource.query<{ age: number; n: string }[]>(
        `SELECT floor(extract(epoch FROM now() - closed_at) / (365 * 86400))::int AS age, count(*) AS n
         FROM cases WHERE phase = 'afgesloten' GROUP BY 1 ORDER BY 1`,
      );
      expect(rows.map((r) => r.age)).toEqual([0, 3, 6]);
      const [{ inconsistent }] = await db.dataSource.query<[{ inconsistent: string }]>(
        `SELECT count(*) AS inconsistent FROM case_participation p JOIN cases c ON c.id = p.case_id
        WHERE c.closed_at IS NOT NULL AND (p.valid_until IS NULL OR p.valid_until > c.closed_at)`,
      );
      expect(Number(inconsistent)).toBe(0);
    });

    it('stores no BSN in clear: only hashes and ciphertexts, in the catalogue field of sensitivity bsn', async () => {
      const bsnField = bsnFieldOf(registry.current().convenant);
      const clear = await db.dataSource.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM case_field_value WHERE value::text ~ '9999[0-9]{5}'`,
      );
      expect(Number(clear[0]!.n)).toBe(0);
      // Encrypted values exist exactly for the BSN field, whatever it is called (none without one).
      const sealed = await db.dataSource.query<{ field_id: string }[]>(
        `SELECT DISTINCT field_id FROM case_field_value WHERE value_encrypted IS NOT NULL`,
      );
      expect(sealed.map((r) => r.field_id)).toEqual(bsnField ? [bsnField.id] : []);
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
      expect(rows.length).toBeGreaterThan(DEMO_CASE_COUNT);
      const compiled = registry.current();
      for (const row of rows) {
        const subject = accessSubject({
          phase: row.phase === CLOSED_PHASE ? RUNNING_PHASES.at(-1)! : (row.phase as Phase),
          participant: true,
          flags: row.flags,
          ...(row.role ? { role: row.role as 'slachtoffer' } : {}),
        });
        expect(
          permittedFields(compiled.abilityFor(row.source_partner, row.purpose), 'write', subject),
        ).toContain(row.field_id);
      }
    }, 60_000);
  },
);
