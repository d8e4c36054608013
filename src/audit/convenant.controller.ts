import { Controller, Get, Header, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { OfficerGuard } from './officer.guard.js';
import { AccessTokenGuard } from '../auth/access-token.guard.js';
import { CurrentActor, type Actor } from '../kernel/actor.js';
import type { ConvenantMatrix } from '../policy/matrix.js';
import {
  ConvenantMatrixDto,
  MatrixCellDto,
  DocumentQueryDto,
  PolicyVersionDetailDto,
  PolicyVersionListDto,
  PolicyVersionParamsDto,
  ReloadResultDto,
} from './convenant.dto.js';
import { ConvenantService } from './convenant.service.js';
import type { PolicyVersionRecord, PolicyVersionSummary } from '../kernel/policy-version.repository.js';
import type { ReloadOutcome } from '../kernel/policy.registry.js';

const OFFICERS =
  'Privacy officers only (a partner of kind toezicht for purpose toezicht); anyone else gets 403 ' +
  'not-an-officer, logged. Every call is logged as an audit entry before the answer (503 if it cannot be).';

@ApiTags('convenant')
@ApiExtraModels(MatrixCellDto)
@ApiBearerAuth()
@UseGuards(AccessTokenGuard, OfficerGuard)
@Controller('v1/convenant')
export class ConvenantController {
  constructor(private readonly convenant: ConvenantService) {}

  @Get('matrix')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Partner × purpose × catalogue section: read/write all, some or none; doorbraak',
    description:
      'Computed from the compiled convenant in force (what the gateway enforces), per pair over every ' +
      `phase, person role, participation and case flag. ${OFFICERS}`,
  })
  @ApiOkResponse({ type: ConvenantMatrixDto })
  matrix(@CurrentActor() officer: Actor): Promise<ConvenantMatrix> {
    return this.convenant.matrix(officer);
  }

  @Get('document')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'The convenant in force as a readable Dutch document (printable HTML, or Markdown)',
    description: `Generated from the same compiled convenant the gateway enforces. format=markdown for text/markdown. ${OFFICERS}`,
  })
  @ApiProduces('text/html', 'text/markdown')
  async document(
    @CurrentActor() officer: Actor,
    @Query() query: DocumentQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const format = query.format ?? 'html';
    const { version, text } = await this.convenant.document(officer, format);
    void reply.header(
      'content-type',
      format === 'html' ? 'text/html; charset=utf-8' : 'text/markdown; charset=utf-8',
    );
    void reply.header('x-policy-version', version);
    return text;
  }

  @Get('versions')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Every convenant version enforced, newest first, and the one in force',
    description: `Access log entries name the version that decided them; GET versions/{version} gives its text. ${OFFICERS}`,
  })
  @ApiOkResponse({ type: PolicyVersionListDto })
  versions(@CurrentActor() officer: Actor): Promise<{ inForce: string; items: PolicyVersionSummary[] }> {
    return this.convenant.list(officer);
  }

  @Get('versions/:version')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'One recorded convenant version with the YAML text it was compiled from',
    description: `404 policy-version-not-found for a version never enforced. ${OFFICERS}`,
  })
  @ApiOkResponse({ type: PolicyVersionDetailDto })
  version(
    @CurrentActor() officer: Actor,
    @Param() params: PolicyVersionParamsDto,
  ): Promise<PolicyVersionRecord> {
    return this.convenant.get(officer, params.version);
  }

  @Post('reload')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "Reload this instance's convenant folder now",
    description:
      'Validates the folder and runs its inline tests first; only then swaps the new version in (requests in ' +
      'flight finish under the version they started with). 422 policy-reload-refused lists every validation ' +
      'error and failing test with file, line and column; the version in force keeps serving. Each instance ' +
      `reloads its own folder. ${OFFICERS}`,
  })
  @ApiOkResponse({ type: ReloadResultDto })
  reload(@CurrentActor() officer: Actor): Promise<ReloadOutcome> {
    return this.convenant.reload(officer);
  }
}
