import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { canonical, entryHash, GENESIS, type LoggedEntry } from '../src/access-log/chain.js';
import { exportLines } from '../src/access-log/export-file.js';
import { checkpointPayload, verifyChain, type ChainRow, type Checkpoint } from '../src/access-log/verify.js';
import { newSigningPair } from '../src/auth/dev-keys.js';
import { gatewayKeyFromJwk } from '../src/auth/gateway-key.js';
import { CompactSign } from 'jose';
import { run } from '../src/cli/program.js';
import { writeResult } from './harness.js';

/**
 * Verification speed of the access log chain on generated entries (target ≥ 100,000 entries/s):
 * in memory (verifyChain alone), and offline from an NDJSON export through `convenant audit verify`
 * (adds reading and JSON parsing). No database: what is measured is the verifier.
 */
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 200_000);
const CHECKPOINT_EVERY = 1000;
const RUNS = 5;

function generated(n: number): LoggedEntry {
  return {
    seq: String(n),
    occurredAt: new Date(Date.UTC(2026, 10, 23, 8, 0, 0) + n * 7).toISOString().replace('Z', '123Z'),
    traceId: randomBytes(16).toString('hex'),
    partner: ['vtrr', 'politie', 'wijkteam', 'om'][n % 4]!,
    professional: `pro-${n % 97}`,
    purpose: 'casusoverleg',
    legalBasis: ['AVG art. 6(1)(e)', 'Wmo 2015 art. 4.1.1'],
    action: 'read',
    caseId: '11111111-1111-4111-8111-111111111111',
    dataSubjectRef: `subj-${n % 1009}`,
    fields: ['betrokkenen.naam', 'plan.doelen', 'veiligheid.risiconiveau'],
    status: n % 9 === 0 ? 'denied' : 'allowed',
    ruleId: 'wijkteam-plan',
    reason: 'Deelnemer in fase herstel.',
    policyVersion: '2026.1+abc123',
    emergency: false,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const key = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
  const rows: ChainRow[] = [];
  const checkpoints: Checkpoint[] = [];
  let head: Buffer = GENESIS;
  let bytes = 0;
  for (let i = 1; i <= ENTRIES; i++) {
    const entry = generated(i);
    bytes += canonical(entry).length;
    const hash = entryHash(head, entry);
    const position = String(i);
    rows.push({
      entry,
      seal: {
        position,
        seq: entry.seq,
        entryHash: hash.toString('hex'),
        prevHash: head.toString('hex'),
        sealedAt: entry.occurredAt,
      },
    });
    head = hash;
    if (i % CHECKPOINT_EVERY === 0) {
      const fields = {
        position,
        chainHead: head.toString('hex'),
        count: position,
        createdAt: new Date().toISOString(),
      };
      const jws = await new CompactSign(new TextEncoder().encode(checkpointPayload(fields)))
        .setProtectedHeader({ alg: 'ES256', kid: key.kid })
        .sign(key.privateKey);
      checkpoints.push({ ...fields, jws });
    }
  }

  const memory: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    const report = await verifyChain({ rows, checkpoints, publicJwk: key.publicJwk });
    const seconds = (performance.now() - started) / 1000;
    if (!report.ok || report.entries !== ENTRIES)
      throw new Error(`verification failed: ${JSON.stringify(report.failure)}`);
    memory.push(ENTRIES / seconds);
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'convenant-audit-bench-'));
  const file = path.join(dir, 'export.ndjson');
  const jwks = path.join(dir, 'jwks.json');
  let text = '';
  for await (const line of exportLines(rows, checkpoints)) text += line;
  await writeFile(file, text);
  await writeFile(jwks, JSON.stringify({ keys: [key.publicJwk] }));
  const offline: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    const result = await run(['audit', 'verify', '--file', file, '--key', jwks], {});
    const seconds = (performance.now() - started) / 1000;
    if (result.code !== 0) throw new Error(result.stderr);
    offline.push(ENTRIES / seconds);
  }
  await rm(dir, { recursive: true, force: true });

  const inMemory = Math.round(median(memory));
  const fromFile = Math.round(median(offline));
  const markdown =
    `# Access log verification (${ENTRIES} entries, checkpoint every ${CHECKPOINT_EVERY}, ${RUNS} runs, medians)\n\n` +
    `| path | entries/s |\n|---|---|\n` +
    `| verifyChain, rows in memory | ${inMemory} |\n` +
    `| convenant audit verify --file (NDJSON, ${Math.round(text.length / 2 ** 20)} MiB) | ${fromFile} |\n\n` +
    `Canonical entry size ${Math.round(bytes / ENTRIES)} bytes. Target ≥ 100,000 entries/s.\n`;
  const out = await writeResult('audit', { entries: ENTRIES, inMemory, fromFile, memory, offline }, markdown);
  process.stdout.write(`${markdown}\n${out}\n`);
}

await main();
