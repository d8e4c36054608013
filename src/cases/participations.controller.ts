import { Body, Controller, Delete, Header, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessTokenGuard } from '../auth/access-token.guard.js';
import { CurrentActor } from '../kernel/actor.js';
import type { Actor } from './case-policy.js';
import {
  AddParticipationDto,
  CaseIdParamsDto,
  ParticipationParamsDto,
  ParticipationViewDto,
} from './cases.dto.js';
import { ParticipationsService, type ParticipationView } from './participations.service.js';

@ApiTags('cases')
@ApiBearerAuth()
@UseGuards(AccessTokenGuard)
@Controller('v1/cases/:id/participations')
export class ParticipationsController {
  constructor(private readonly participations: ParticipationsService) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Let a partner take part in the case for some purposes during a period',
    description:
      'Only if the convenant lets you manage the case. The partner must be registered in the convenant for ' +
      'every purpose (else 422). 403 manage-not-allowed or not-participating; 404 no such case. Logged as manage.',
  })
  @ApiCreatedResponse({ type: ParticipationViewDto })
  add(
    @CurrentActor() actor: Actor,
    @Param() params: CaseIdParamsDto,
    @Body() body: AddParticipationDto,
  ): Promise<ParticipationView> {
    return this.participations.add(actor, params.id, body);
  }

  @Delete(':pid')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "End a participation now: the partner's access to the case ends with it",
    description:
      'Only if the convenant lets you manage the case. 404 no such case or participation; 409 already ended. ' +
      'Logged as manage.',
  })
  @ApiOkResponse({ type: ParticipationViewDto })
  end(@CurrentActor() actor: Actor, @Param() params: ParticipationParamsDto): Promise<ParticipationView> {
    return this.participations.end(actor, params.id, params.pid);
  }
}
