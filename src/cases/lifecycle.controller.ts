import { Body, Controller, Get, Header, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessTokenGuard } from '../auth/access-token.guard.js';
import { CurrentActor } from '../kernel/actor.js';
import type { Actor } from './case-policy.js';
import { CaseIdParamsDto } from './cases.dto.js';
import {
  ChangePhaseDto,
  EmergencyAccessDto,
  EmergencyGrantListDto,
  EmergencyGrantViewDto,
  PhaseChangeViewDto,
  PhaseHistoryDto,
} from './lifecycle.dto.js';
import {
  LifecycleService,
  type EmergencyGrantView,
  type PhaseChangeView,
  type PhaseHistoryView,
} from './lifecycle.service.js';

const LOGGED =
  'Allowed or refused, it is logged before the answer; if the log cannot be written the answer is 503 ' +
  'log-unavailable and nothing is changed.';

@ApiTags('cases')
@ApiBearerAuth()
@UseGuards(AccessTokenGuard)
@Controller('v1/cases/:id')
export class LifecycleController {
  constructor(private readonly lifecycle: LifecycleService) {}

  @Post('phase')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Change the phase of the case (acute, stabilisatie, herstel, afgesloten), with a reason',
    description:
      'Only if the convenant lets you manage the case in its current phase. afgesloten closes it: every ' +
      'participation ends now and the retention period starts. From afgesloten the case reopens, if you ' +
      'took part until it was closed: you take part again from now, the others are invited again. What each ' +
      'partner sees follows the new phase from the next request. 400 malformed or a reason that is not a ' +
      `sentence; 403 manage-not-allowed or not-participating; 404 no such case; 409 phase-unchanged. ${LOGGED}`,
  })
  @ApiOkResponse({ type: PhaseChangeViewDto })
  changePhase(
    @CurrentActor() actor: Actor,
    @Param() params: CaseIdParamsDto,
    @Body() body: ChangePhaseDto,
  ): Promise<PhaseChangeView> {
    return this.lifecycle.changePhase(actor, params.id, body);
  }

  @Get('phases')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'The phase changes of the case with their reasons, oldest first',
    description: `For partners that take part in the case now (403 not-participating; 404 no such case). ${LOGGED}`,
  })
  @ApiOkResponse({ type: PhaseHistoryDto })
  phases(@CurrentActor() actor: Actor, @Param() params: CaseIdParamsDto): Promise<PhaseHistoryView> {
    return this.lifecycle.phaseHistory(actor, params.id);
  }

  @Post('emergency-access')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Claim emergency access (doorbraak) to the case, with a written reason',
    description:
      'Only under a purpose whose emergency_access the convenant allows (else 403 emergency-access-not-allowed). ' +
      "Grants you (this professional, partner and purpose) the fields of the convenant's emergency rules, " +
      "without participation, for the purpose's window (default EMERGENCY_WINDOW_MINUTES). Every read under it " +
      "is marked emergency in the access log; the claim enters the privacy officer's review queue and the " +
      `controller of record sees it. 400 a reason that is not a sentence; 404 no such case. ${LOGGED}`,
  })
  @ApiCreatedResponse({ type: EmergencyGrantViewDto })
  claimEmergency(
    @CurrentActor() actor: Actor,
    @Param() params: CaseIdParamsDto,
    @Body() body: EmergencyAccessDto,
  ): Promise<EmergencyGrantView> {
    return this.lifecycle.claimEmergency(actor, params.id, body.reason);
  }

  @Get('emergency-accesses')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'The emergency accesses to the case, for its controller of record',
    description:
      'Which partner claimed access under which purpose, why, and for how long; never which professional. ' +
      `403 not-controller-of-record for every other partner; 404 no such case. ${LOGGED}`,
  })
  @ApiOkResponse({ type: EmergencyGrantListDto })
  emergencyAccesses(
    @CurrentActor() actor: Actor,
    @Param() params: CaseIdParamsDto,
  ): Promise<{ items: EmergencyGrantView[] }> {
    return this.lifecycle.emergencyAccesses(actor, params.id);
  }
}
