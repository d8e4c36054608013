import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { appendSealedDenials } from '../../../test/support/sealed-entries.js';
import { readChain, readCheckpoints } from '../../access-log/chain.repository.js';
import { exportLines } from '../../access-log/export-file.js';
import { newSigningPair } from '../../keys/dev-keys.js';
import { gatewayKeyFile, gatewayKeyFromJwk, type GatewayKey } from '../../keys/gateway-key.js';
import { run } from '../program.js';

describe('convenant audit verify (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dir: string;
  let key: GatewayKey;
  let exportFile: string;
  let jwksFile: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(path.join(os.tmpdir(), 'convenant-audit-'));
    const { privateJwk } = await newSigningPair();
    await mkdir(path.join(dir, 'keys'), { recursive: true });
    await writeFile(gatewayKeyFile(path.join(dir, 'keys')), JSON.stringify(privateJwk));
    key = await gatewayKeyFromJwk(privateJwk);
    await appendSealedDenials(db.dataSource, key, 30);
    exportFile = path.join(dir, 'export.ndjson');
    let text = '';
    for await (const line of exportLines(readChain(db.dataSource), await readCheckpoints(db.dataSource)))
      text += line;
    await writeFile(exportFile, text);
    jwksFile = path.join(dir, 'jwks.json');
    await writeFile(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies the database with the configured DATABASE_URL and prints entries per second', async () => {
    const result = await run(['audit', 'verify'], { DATABASE_URL: db.url, CONVENANT_DATA_DIR: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Verified 30 entries and 3 checkpoints in .* \(\d+ entries\/s\)/);
  });

  it('verifies an export offline, and exits 1 naming the first altered entry', async () => {
    expect((await run(['audit', 'verify', '--file', exportFile, '--key', jwksFile], {})).code).toBe(0);
    const lines = (await readFile(exportFile, 'utf8')).split('\n');
    lines[12] = lines[12]!.replace('"reason":"r11"', '"reason":"r-eleven"');
    const tampered = path.join(dir, 'tampered.ndjson');
    await writeFile(tampered, lines.join('\n'));
    const result = await run(['audit', 'verify', '--file', tampered, '--key', jwksFile], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FAILED: altered at position 12 \(seq 12\)/);
  });

  it('refuses an export signed by another key', async () => {
    const other = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
    const otherJwks = path.join(dir, 'other.json');
    await writeFile(otherJwks, JSON.stringify({ keys: [other.publicJwk] }));
    const result = await run(['audit', 'verify', '--file', exportFile, '--key', otherJwks], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/checkpoint-signature at position 10/);
  });

  describe('names the first bad entry when the database was tampered with (committed, then put back)', () => {
    const TABLES = ['access_log', 'access_log_seal'];
    /** Runs `convenant audit verify` against the database with `change` committed, then `undo`. */
    const verifyTampered = async (change: string[], undo: string[]) => {
      const as = async (statements: string[]) => {
        for (const t of TABLES)
          await db.dataSource.query(`ALTER TABLE ${t} DISABLE TRIGGER ${t}_append_only`);
        try {
          for (const statement of statements) await db.dataSource.query(statement);
        } finally {
          for (const t of TABLES)
            await db.dataSource.query(`ALTER TABLE ${t} ENABLE TRIGGER ${t}_append_only`);
        }
      };
      await as(change);
      try {
        return await run(['audit', 'verify'], { DATABASE_URL: db.url, CONVENANT_DATA_DIR: dir });
      } finally {
        await as(undo);
        // Put back as it was: the other tests see an intact chain again.
        expect((await run(['audit', 'verify'], { DATABASE_URL: db.url, CONVENANT_DATA_DIR: dir })).code).toBe(
          0,
        );
      }
    };

    it('one field of one entry changed', async () => {
      const result = await verifyTampered(
        [`UPDATE access_log SET reason = 'r-seventeen' WHERE reason = 'r16'`],
        [`UPDATE access_log SET reason = 'r16' WHERE reason = 'r-seventeen'`],
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/FAILED: altered at position 17 \(seq 17\)/);
    });

    it('one entry deleted', async () => {
      const result = await verifyTampered(
        [
          `CREATE TABLE held AS SELECT * FROM access_log WHERE reason = 'r7'`,
          `DELETE FROM access_log WHERE reason = 'r7'`,
        ],
        [`INSERT INTO access_log OVERRIDING SYSTEM VALUE SELECT * FROM held`, `DROP TABLE held`],
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/FAILED: removed at position 8 \(seq 8\)/);
    });

    it('one entry inserted that the chain skipped', async () => {
      const result = await verifyTampered(
        [
          `INSERT INTO access_log (seq, occurred_at, trace_id, action, status)
             OVERRIDING SYSTEM VALUE VALUES (0, '2026-01-01T00:00:00Z', '${'b'.repeat(32)}', 'read', 'allowed')`,
        ],
        [`DELETE FROM access_log WHERE seq = 0`],
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/FAILED: inserted at position - \(seq 0\)/);
    });

    it('two entries reordered', async () => {
      const seqAt = (a: number, b: number) => [
        `UPDATE access_log_seal SET seq = -1 WHERE position = 21`,
        `UPDATE access_log_seal SET seq = ${b} WHERE position = 22`,
        `UPDATE access_log_seal SET seq = ${a} WHERE position = 21`,
      ];
      const result = await verifyTampered(seqAt(22, 21), seqAt(21, 22));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/FAILED: reordered at position 21 \(seq 22\)/);
    });
  });

  it('exits 1 naming entries left unsealed longer than UNSEALED_MAX_MS (last: it leaves one behind)', async () => {
    const [row] = await db.dataSource.query<{ seq: string }[]>(
      `INSERT INTO access_log (occurred_at, trace_id, action, status, reason)
       VALUES (now() - interval '2 minutes', $1, 'read', 'allowed', 'never sealed') RETURNING seq::text AS seq`,
      [randomBytes(16).toString('hex')],
    );
    const env = { DATABASE_URL: db.url, CONVENANT_DATA_DIR: dir };
    const result = await run(['audit', 'verify'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/1 pending \(1 overdue\)/);
    expect(result.stderr).toMatch(
      new RegExp(
        `FAILED: unsealed at position - \\(seq ${row!.seq}\\): 1 entries are not in the chain although they occurred more than 30 s`,
      ),
    );
    // Within a longer bound it is pending, not a failure.
    expect((await run(['audit', 'verify'], { ...env, UNSEALED_MAX_MS: '600000' })).code).toBe(0);
  });
});
