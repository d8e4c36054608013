import { Controller, Get, Header, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessTokenGuard } from '../auth/access-token.guard.js';
import { CurrentActor } from '../cases/actor.js';
import type { Actor } from '../cases/case-policy.js';
import { AuditEventPageDto, AuditEventsQueryDto } from './audit.dto.js';
import { AuditService, type EventPage } from './audit.service.js';
import { OfficerGuard } from './officer.guard.js';

const OFFICERS =
  'Privacy officers only: a token of a partner of kind toezicht for purpose toezicht; anyone else gets ' +
  '403 not-an-officer, logged. Every query is logged as an audit entry before the answer (503 if it cannot be).';

@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(AccessTokenGuard, OfficerGuard)
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('events')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Access log entries matching the filters, newest first',
    description: `Keyset-paginated (pass nextCursor as cursor); from is inclusive, to exclusive. ${OFFICERS}`,
  })
  @ApiOkResponse({ type: AuditEventPageDto })
  events(@CurrentActor() officer: Actor, @Query() query: AuditEventsQueryDto): Promise<EventPage> {
    return this.audit.events(officer, query);
  }
}
