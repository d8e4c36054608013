import { Controller, Get, Header, Inject, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional, Matches, ValidateBy } from 'class-validator';
import type { JWK } from 'jose';
import { DataSource } from 'typeorm';
import { AccessTokenGuard } from '../auth/access-token.guard.js';
import { GATEWAY_KEY_RING, type GatewayKeyRing } from '../keys/gateway-key.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { CurrentActor, type Actor } from '../kernel/actor.js';
import { readCheckpoints, readPurges } from '../access-log/chain.repository.js';
import type { VerifyReport } from '../access-log/verify.js';
import {
  latestTreeHead,
  NoTreeHeadError,
  treeConsistency,
  treeInclusion,
  type InclusionProof,
  type SignedTreeHead,
} from '../access-log/tree.js';
import { urlOf, verifyInParallel } from '../access-log/verify-parallel.js';
import { withPurgeCheck } from '../access-log/verify-purges.js';
import { AuditService } from './audit.service.js';
import { OfficerGuard } from './officer.guard.js';

export class VerifyQueryDto {
  @ApiPropertyOptional({
    description: 'First chain position to verify (earlier ones are trusted).',
    example: '1',
  })
  @IsOptional()
  @Matches(/^[1-9]\d{0,17}$/, { message: 'from must be a chain position: a whole number from 1' })
  from?: string;

  @ApiPropertyOptional({ description: 'Last chain position to verify.', example: '100000' })
  @IsOptional()
  @Matches(/^[1-9]\d{0,17}$/, { message: 'to must be a chain position: a whole number from 1' })
  // An inverted range verified nothing and still answered ok: refuse it like any invalid input.
  @ValidateBy({
    name: 'notBeforeFrom',
    validator: {
      validate: (to: unknown, args) => {
        const from = (args?.object as VerifyQueryDto | undefined)?.from;
        const position = /^\d{1,18}$/;
        if (typeof to !== 'string' || !position.test(to) || from === undefined || !position.test(from)) {
          return true;
        }
        return BigInt(to) >= BigInt(from);
      },
      defaultMessage: () => 'to must not be before from',
    },
  })
  to?: string;
}

const SIZE = /^[1-9]\d{0,14}$/;

export class ConsistencyQueryDto {
  @ApiProperty({ description: 'The smaller tree size (a checkpoint the witness holds).', example: '1000' })
  @Matches(SIZE, { message: 'first must be a tree size: a whole number from 1' })
  first!: string;

  @ApiProperty({ description: 'The larger tree size (the newest checkpoint).', example: '2000' })
  @Matches(SIZE, { message: 'second must be a tree size: a whole number from 1' })
  second!: string;
}

export class InclusionQueryDto {
  @ApiProperty({ description: 'The chain position of the entry.', example: '17' })
  @Matches(SIZE, { message: 'position must be a chain position: a whole number from 1' })
  position!: string;

  @ApiPropertyOptional({
    description: 'The tree size to prove it in (default: the newest checkpoint).',
    example: '1000',
  })
  @IsOptional()
  @Matches(SIZE, { message: 'size must be a tree size: a whole number from 1' })
  size?: string;
}

@ApiTags('audit')
@Controller('v1/audit')
/** The access log's integrity: the checkpoint key (public) and verification (officers). */
export class IntegrityController {
  constructor(
    @Inject(GATEWAY_KEY_RING) private readonly ring: GatewayKeyRing,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Public on purpose: anyone holding an export must be able to check its checkpoints offline. */
  @Get('keys')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({
    summary: 'The public key that signs access log checkpoints (JWKS)',
    description:
      'No authentication: it is a public key. Checkpoint JWS headers name it by kid; use it with `convenant audit verify --key`.',
  })
  @ApiOkResponse({
    description:
      'A JSON Web Key Set: the current gateway key (ES256), then every key rotated out, whose checkpoints stay verifiable.',
  })
  keys(): { keys: JWK[] } {
    return { keys: this.ring.publicJwks() };
  }

  /**
   * Public like the key: a tree head holds sizes and hashes, no personal data, and a witness run by
   * a partner or an outside party must be able to fetch it without being an officer.
   */
  @Get('checkpoint')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'The newest signed checkpoint: an RFC 9162 tree head over the access log',
    description:
      'No authentication. `jws` is a compact JWS (ES256, the key of GET /v1/audit/keys) whose payload is the checkpoint ' +
      'note: origin, tree size, base64 Merkle root, chain head, time. `frontier` holds the subtree roots that fold to ' +
      'the root. What `convenant audit witness` fetches (docs/witness.md).',
  })
  @ApiOkResponse({ description: 'The tree head.' })
  async checkpoint(): Promise<SignedTreeHead> {
    const head = await latestTreeHead(this.dataSource);
    if (!head) throw new NoTreeHeadError();
    return head;
  }

  @Get('consistency')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({
    summary: 'RFC 9162 consistency proof between two signed tree sizes',
    description:
      'No authentication: hashes only. Shows that the tree of `second` entries keeps the tree of `first` entries as its ' +
      'beginning, in O(log n) hashes (hex, bottom up, RFC 9162 §2.1.4). Both sizes at most the newest checkpoint.',
  })
  @ApiOkResponse({ description: '{ first, second, proof }.' })
  async consistency(
    @Query() query: ConsistencyQueryDto,
  ): Promise<{ first: string; second: string; proof: string[] }> {
    const proof = await treeConsistency(this.dataSource, Number(query.first), Number(query.second));
    return { first: query.first, second: query.second, proof };
  }

  @Get('inclusion')
  @ApiBearerAuth()
  @UseGuards(AccessTokenGuard, OfficerGuard)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'RFC 9162 inclusion proof of one access log entry in a signed tree',
    description:
      'Privacy officers only; logged as an audit access. The leaf is SHA-256(0x00 || entryHash), entryHash = ' +
      'SHA-256(prevHash || canonical entry); the proof (hex, bottom up, RFC 9162 §2.1.3) leads to the root of the ' +
      'checkpoint of `size` entries.',
  })
  @ApiOkResponse({ description: 'The seal of the entry and its audit path.' })
  async inclusion(
    @CurrentActor() officer: Actor,
    @Query() query: InclusionQueryDto,
  ): Promise<InclusionProof> {
    const proof = await treeInclusion(
      this.dataSource,
      Number(query.position),
      query.size === undefined ? undefined : Number(query.size),
    );
    await this.audit.recordQuery(officer, {
      caseId: null,
      dataSubjectRef: null,
      reason: `Inclusion proof of chain position ${proof.position} in the tree of ${proof.size} entries.`,
    });
    return proof;
  }

  @Get('verify')
  @ApiBearerAuth()
  @UseGuards(AccessTokenGuard, OfficerGuard)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "Recompute the access log's hash chain and check its signed checkpoints",
    description:
      'Privacy officers only (partner of kind toezicht, purpose toezicht). Reports the first bad position and ' +
      'sequence number with what is wrong (altered, removed, inserted, reordered, checkpoint), and fails (unsealed) ' +
      'when entries stayed outside the chain longer than UNSEALED_MAX_MS. Logged as an audit access.',
  })
  @ApiOkResponse({
    description:
      'The verification report; ok=false names the first failure. lastCheckpoint: the newest signed checkpoint.',
  })
  async verify(
    @CurrentActor() officer: Actor,
    @Query() query: VerifyQueryDto,
  ): Promise<VerifyReport & { lastCheckpoint: { position: string; createdAt: string } | null }> {
    const from = query.from ? BigInt(query.from) : undefined;
    const to = query.to ? BigInt(query.to) : undefined;
    const checkpoints = await readCheckpoints(this.dataSource);
    const chain = await verifyInParallel({
      source: this.dataSource,
      ...urlOf(this.dataSource),
      checkpoints,
      purged: await readPurges(this.dataSource),
      publicJwk: this.ring.publicJwks(),
      unsealedMaxMs: this.config.unsealedMaxMs,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    });
    const report = await withPurgeCheck(chain, this.dataSource, checkpoints, this.ring.publicJwks(), {
      unsealedMaxMs: this.config.unsealedMaxMs,
    });
    // The verification is itself an access to the log, recorded before the answer (503 if it cannot be).
    await this.audit.recordQuery(officer, {
      caseId: null,
      dataSubjectRef: null,
      reason:
        `Access log integrity verified (positions ${query.from ?? '1'}–${query.to ?? 'end'}): ` +
        (report.ok
          ? `ok, ${report.entries} entries`
          : `FAILED, ${report.failure?.problem} at ${report.failure?.position}`),
    });
    // The officers' page shows when the chain head was last signed, next to the verification.
    const last = checkpoints.at(-1);
    return {
      ...report,
      lastCheckpoint: last ? { position: last.position, createdAt: last.createdAt } : null,
    };
  }
}
