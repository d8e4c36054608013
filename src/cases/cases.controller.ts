import { Body, Controller, Get, Header, HttpCode, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessTokenGuard } from '../auth/access-token.guard.js';
import { CurrentActor } from '../kernel/actor.js';
import type { Actor } from './case-policy.js';
import {
  CaseIdParamsDto,
  CaseListDto,
  CaseViewDto,
  FieldHistoryDto,
  FieldHistoryParamsDto,
  FieldHistoryQueryDto,
  ListCasesQueryDto,
  RegisterCaseDto,
  RegisteredCaseDto,
  WriteFieldsDto,
  WriteResultDto,
} from './cases.dto.js';
import {
  CasesService,
  type CaseSummary,
  type CaseView,
  type FieldHistory,
  type RegisteredCase,
} from './cases.service.js';

const LOGGED =
  'Every access, allowed or refused, is logged before the answer; if the log cannot be written the ' +
  'answer is 503 log-unavailable and nothing is returned or written.';

@ApiTags('cases')
@ApiBearerAuth()
@UseGuards(AccessTokenGuard)
@Controller('v1/cases')
export class CasesController {
  constructor(private readonly cases: CasesService) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Register a case; you become its controller of record and take part for your purpose from now',
    description:
      'Initial values are written only if the convenant lets you write every one of them; otherwise 403 ' +
      'naming each refused field and nothing is written. 400 malformed, 413 over 256 KB, 422 values that ' +
      `do not fit the catalogue or undeclared case flags. ${LOGGED}`,
  })
  @ApiCreatedResponse({ type: RegisteredCaseDto })
  register(@CurrentActor() actor: Actor, @Body() body: RegisterCaseDto): Promise<RegisteredCase> {
    return this.cases.register(actor, body);
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'The cases you take part in now, for the purpose of your token, newest first',
    description: `Keyset-paginated: pass nextCursor as cursor. 400 on invalid filters. ${LOGGED}`,
  })
  @ApiOkResponse({ type: CaseListDto })
  list(
    @CurrentActor() actor: Actor,
    @Query() query: ListCasesQueryDto,
  ): Promise<{ items: CaseSummary[]; nextCursor: string | null }> {
    return this.cases.list(actor, query);
  }

  @Get(':id')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'A case with only the fields the convenant lets you read now',
    description:
      'Fields you may not read are absent (not null). Case flags are not shown: they steer decisions ' +
      '(e.g. geheim-adres) and the catalogue has no field for them. 403 not-participating when you take ' +
      `no part in the case for your purpose now; 404 when there is no such case. ${LOGGED}`,
  })
  @ApiOkResponse({ type: CaseViewDto })
  read(@CurrentActor() actor: Actor, @Param() params: CaseIdParamsDto): Promise<CaseView> {
    return this.cases.read(actor, params.id);
  }

  @Put(':id/fields')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Contribute field values, all or nothing; each value keeps you as its source',
    description:
      'Person-level fields need the subjectRef, case-level fields must not have one. 403 fields-not-writable ' +
      'names every field you may not write (nothing is written); 422 values that do not fit the catalogue; ' +
      `400 malformed; 413 over 256 KB. Values are appended: the history keeps every version. ${LOGGED}`,
  })
  @ApiOkResponse({ type: WriteResultDto })
  writeFields(
    @CurrentActor() actor: Actor,
    @Param() params: CaseIdParamsDto,
    @Body() body: WriteFieldsDto,
  ): Promise<{ policyVersion: string; recorded: { field: string; subjectRef?: string }[] }> {
    return this.cases.writeFields(actor, params.id, body.values);
  }

  @Get(':id/fields/:field/history')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Every recorded version of one field, if you may read that field now',
    description:
      'subjectRef (query) names the person for person-level fields. 403 field-not-readable or ' +
      `not-participating; 404 unknown case, field or person. ${LOGGED}`,
  })
  @ApiOkResponse({ type: FieldHistoryDto })
  history(
    @CurrentActor() actor: Actor,
    @Param() params: FieldHistoryParamsDto,
    @Query() query: FieldHistoryQueryDto,
  ): Promise<FieldHistory> {
    return this.cases.history(actor, params.id, params.field, query.subjectRef);
  }
}
