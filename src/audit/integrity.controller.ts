import { Controller, Get, Header, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import type { JWK } from 'jose';
import { DataSource } from 'typeorm';
import { AccessTokenGuard } from '../auth/access-token.guard.js';
import { GATEWAY_KEY_RING, type GatewayKeyRing } from '../auth/gateway-key.js';
import { CurrentActor } from '../cases/actor.js';
import type { Actor } from '../cases/case-policy.js';
import { readCheckpoints, readPurges } from '../access-log/chain.repository.js';
import type { VerifyReport } from '../access-log/verify.js';
import { urlOf, verifyInParallel } from '../access-log/verify-parallel.js';
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
  to?: string;
}

@ApiTags('audit')
@Controller('v1/audit')
/** The access log's integrity: the checkpoint key (public) and verification (officers). */
export class IntegrityController {
  constructor(
    @Inject(GATEWAY_KEY_RING) private readonly ring: GatewayKeyRing,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
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

  @Get('verify')
  @ApiBearerAuth()
  @UseGuards(AccessTokenGuard, OfficerGuard)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "Recompute the access log's hash chain and check its signed checkpoints",
    description:
      'Privacy officers only (partner of kind toezicht, purpose toezicht). Reports the first bad position and ' +
      'sequence number with what is wrong (altered, removed, inserted, reordered, checkpoint). Logged as an audit access.',
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
    const report = await verifyInParallel({
      source: this.dataSource,
      ...urlOf(this.dataSource),
      checkpoints,
      purged: await readPurges(this.dataSource),
      publicJwk: this.ring.publicJwks(),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
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
