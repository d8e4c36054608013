import { Body, Controller, Delete, Get, Header, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessTokenGuard } from '../auth/access-token.guard.js';
import { CurrentActor, type Actor } from '../kernel/actor.js';
import { SignalIdParamsDto, SignalInputDto, SignalListDto, SignalViewDto } from './signals.dto.js';
import { SignalsService, type SignalView } from './signals.service.js';

const LOGGED =
  'Logged before the answer (without the BSN), and each disclosure of other partners too; 503 log-unavailable ' +
  'when the log cannot be written.';

@ApiTags('signals')
@ApiBearerAuth()
@UseGuards(AccessTokenGuard)
@Controller('v1/signals')
export class SignalsController {
  constructor(private readonly signals: SignalsService) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Signal that you are involved with a person (verwijsindex), by BSN in the body',
    description:
      'The BSN is kept only as a keyed hash. If the convenant allows it for your purpose (involvement_matches), ' +
      'the answer names the other partners that signalled the same person and how to reach them; nothing else ' +
      `about the person. 400 malformed or a BSN that fails the 11-test. ${LOGGED}`,
  })
  @ApiCreatedResponse({ type: SignalViewDto })
  signal(@CurrentActor() actor: Actor, @Body() body: SignalInputDto): Promise<SignalView> {
    return this.signals.signal(actor, body);
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Your live signals under your purpose, each with the other partners involved now',
    description: LOGGED,
  })
  @ApiOkResponse({ type: SignalListDto })
  list(@CurrentActor() actor: Actor): Promise<{ items: SignalView[] }> {
    return this.signals.list(actor);
  }

  @Delete(':id')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Withdraw a signal of your organisation: it no longer matches, for anyone',
    description: `404 not one of your organisation's signals; 409 already withdrawn. ${LOGGED}`,
  })
  @ApiOkResponse({ type: SignalViewDto })
  withdraw(@CurrentActor() actor: Actor, @Param() params: SignalIdParamsDto): Promise<SignalView> {
    return this.signals.withdraw(actor, params.id);
  }
}
