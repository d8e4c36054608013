import type { JWK } from 'jose';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { readChain, readCheckpoints } from '../../access-log/chain.repository.js';
import {
  parseExportLine,
  verifyChain,
  type ChainRow,
  type Checkpoint,
  type VerifyReport,
} from '../../access-log/verify.js';
import { gatewayKeyFile, gatewayKeyFromJwk } from '../../auth/gateway-key.js';
import { loadConfig } from '../../config/config.js';
import { openDatabase } from '../../db/data-source.js';
import type { CliContext, CommandRegistration } from '../context.js';

interface VerifyOptions {
  file?: string;
  key?: string;
  from?: string;
  to?: string;
}

/**
 * `convenant audit verify`: recomputes the access log's hash chain and checks every signed
 * checkpoint, from the configured database or offline from an NDJSON export. Exit 1 on the first
 * failure, naming the position and sequence number.
 */
export const auditCommand: CommandRegistration = (program, ctx) => {
  const audit = program.command('audit').description('check the integrity of the access log');
  audit
    .command('verify')
    .description('recompute the hash chain and check the signed checkpoints')
    .option('--file <export.ndjson>', 'verify an export offline instead of the database')
    .option('--key <jwks.json>', 'the JWKS from GET /v1/audit/keys (default: the local gateway key)')
    .option('--from <position>', 'first chain position to verify (earlier ones are trusted)')
    .option('--to <position>', 'last chain position to verify')
    .action((options: VerifyOptions) => verifyAction(ctx, options));
};

async function verifyAction(ctx: CliContext, options: VerifyOptions): Promise<void> {
  const config = loadConfig(ctx.env);
  if (options.file && !options.key) {
    ctx.err('Offline verification needs the public key: pass --key <jwks.json> (from GET /v1/audit/keys).');
    ctx.exitCode = 1;
    return;
  }
  const publicJwk = options.key
    ? await keyFromJwks(options.key)
    : (await gatewayKeyFromJwk(JSON.parse(await readFile(gatewayKeyFile(config.keysDir), 'utf8')) as JWK))
        .publicJwk;
  const range = {
    ...(options.from ? { from: BigInt(options.from) } : {}),
    ...(options.to ? { to: BigInt(options.to) } : {}),
  };
  const started = performance.now();
  let report: VerifyReport;
  if (options.file) {
    report = await verifyChain({
      rows: rowsFromFile(options.file),
      checkpoints: await checkpointsFromFile(options.file),
      publicJwk,
      ...range,
    });
  } else {
    const database = await openDatabase(config, { poolSize: 2 });
    try {
      report = await verifyChain({
        rows: readChain(database.dataSource, range.from, range.to),
        checkpoints: await readCheckpoints(database.dataSource),
        publicJwk,
        ...range,
      });
    } finally {
      await database.close();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const rate = Math.round(report.entries / Math.max(seconds, 1e-6));
  ctx.out(
    `Verified ${report.entries} entries and ${report.checkpoints} checkpoints in ${seconds.toFixed(2)} s ` +
      `(${rate} entries/s); ${report.pending} pending; chain head ${report.head || '(none)'}.`,
  );
  if (report.failure) {
    const f = report.failure;
    ctx.err(
      ctx.style(
        'red',
        `FAILED: ${f.problem} at position ${f.position ?? '-'} (seq ${f.seq ?? '-'}): ${f.detail}`,
      ),
    );
    ctx.exitCode = 1;
  } else {
    ctx.out('OK: the access log is intact.');
  }
}

async function keyFromJwks(file: string): Promise<JWK> {
  const jwks = JSON.parse(await readFile(file, 'utf8')) as { keys?: JWK[] };
  const key = jwks.keys?.[0];
  if (!key) throw new Error(`${file} holds no key: expected a JWKS as served by GET /v1/audit/keys.`);
  return key;
}

function lines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
}

/** Checkpoint lines come last in an export, but are needed first: a cheap first pass finds them. */
async function checkpointsFromFile(file: string): Promise<Checkpoint[]> {
  const checkpoints: Checkpoint[] = [];
  for await (const line of lines(file)) {
    if (!line.startsWith('{"type":"checkpoint"')) continue;
    const parsed = parseExportLine(line);
    if (parsed.type === 'checkpoint') {
      const { type: _type, ...checkpoint } = parsed;
      checkpoints.push(checkpoint);
    }
  }
  return checkpoints;
}

async function* rowsFromFile(file: string): AsyncGenerator<ChainRow> {
  for await (const line of lines(file)) {
    if (!line.startsWith('{"type":"entry"')) continue;
    const parsed = parseExportLine(line);
    if (parsed.type === 'entry') yield { entry: parsed.entry, seal: parsed.seal };
  }
}
