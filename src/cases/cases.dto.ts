import { PageCursor, PageLimit } from '../common/paging.js';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateNested,
  type ValidationOptions,
} from 'class-validator';
import { PERSON_ROLES, PHASES, type PersonRole, type Phase } from '../policy/index.js';
import { isValidBsn } from './bsn.js';
import { RUNNING_PHASES } from './phase.js';
import type { FieldValue } from './field-values.js';

/**
 * Request and response shapes of the case routes. Requests are validated strictly (unknown
 * properties are refused by the global ValidationPipe); field values are checked against the
 * catalogue in the service, because their types come from the convenant, not from code.
 * Validation messages never echo the value sent: it may be personal data.
 */

export const FIELD_ID = /^[a-z0-9-]+\.[a-z0-9-]+$/;
export const SUBJECT_REF = /^p_[a-z2-7]{20}$/;
const KEBAB_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** A new case is in one of the running phases; a closed case is not registered. */
export const REGISTRATION_PHASES: Phase[] = [...RUNNING_PHASES];
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

function IsBsn(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBsn',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isValidBsn(value),
        defaultMessage: () => 'bsn must be nine digits that pass the 11-test',
      },
    },
    options,
  );
}

const FIELD_MAP_SCHEMA = {
  type: 'object' as const,
  additionalProperties: true,
  description:
    'Catalogue field id → value (string, number, boolean or null, as the catalogue type says), ' +
    'e.g. {"persoon.naam": "…"}. Only fields the convenant lets you write.',
};

export class PersonInputDto {
  @ApiProperty({ enum: PERSON_ROLES })
  @IsIn(PERSON_ROLES)
  role!: PersonRole;

  @ApiPropertyOptional({
    description:
      'Burgerservicenummer (9 digits, 11-test). Written to the catalogue field of sensitivity bsn, only if you may write it; ' +
      'stored as a keyed hash and encrypted, never in logs or URLs.',
  })
  @IsOptional()
  @IsString()
  @IsBsn()
  bsn?: string;

  @ApiPropertyOptional(FIELD_MAP_SCHEMA)
  @IsOptional()
  @IsObject()
  fields?: Record<string, unknown>;
}

export class RegisterCaseDto {
  @ApiProperty({ enum: REGISTRATION_PHASES })
  @IsIn(REGISTRATION_PHASES)
  phase!: Phase;

  @ApiPropertyOptional({
    type: [String],
    description: "Case flags declared in the convenant's case_flags (e.g. geheim-adres).",
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(KEBAB_ID, { each: true, message: 'each flag must be a kebab-case id' })
  flags?: string[];

  @ApiProperty({ type: [PersonInputDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => PersonInputDto)
  persons!: PersonInputDto[];

  @ApiPropertyOptional(FIELD_MAP_SCHEMA)
  @IsOptional()
  @IsObject()
  fields?: Record<string, unknown>;
}

export class ListCasesQueryDto {
  @ApiPropertyOptional({ enum: PHASES })
  @IsOptional()
  @IsIn(PHASES)
  phase?: Phase;

  @PageLimit(MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)
  limit?: number;

  @PageCursor()
  cursor?: string;
}

export class CaseIdParamsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  id!: string;
}

export class FieldHistoryParamsDto extends CaseIdParamsDto {
  @ApiProperty({ example: 'plan.doelen', description: 'Catalogue field id.' })
  @Matches(FIELD_ID, { message: 'field must be a catalogue field id such as plan.doelen' })
  field!: string;
}

export class ParticipationParamsDto extends CaseIdParamsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  pid!: string;
}

export class FieldHistoryQueryDto {
  @ApiPropertyOptional({ description: 'The person, for person-level fields (pseudonymous reference).' })
  @IsOptional()
  @Matches(SUBJECT_REF, { message: 'subjectRef must be a subject reference such as p_abcdefghijklmnopqrst' })
  subjectRef?: string;
}

export class FieldValueInputDto {
  @ApiProperty({ example: 'plan.doelen' })
  @Matches(FIELD_ID, { message: 'field must be a catalogue field id such as plan.doelen' })
  field!: string;

  @ApiPropertyOptional({ description: 'Required for person-level fields, absent for case-level fields.' })
  @IsOptional()
  @Matches(SUBJECT_REF, { message: 'subjectRef must be a subject reference such as p_abcdefghijklmnopqrst' })
  subjectRef?: string;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }],
    description: 'As the catalogue type says; null records that the value is no longer known.',
  })
  // Checked against the catalogue in the service (the type comes from the convenant).
  @Allow()
  value!: unknown;

  @ApiPropertyOptional({ maxLength: 500, description: 'Why the value is recorded or changed.' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class WriteFieldsDto {
  @ApiProperty({ type: [FieldValueInputDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => FieldValueInputDto)
  values!: FieldValueInputDto[];
}

export class AddParticipationDto {
  @ApiProperty({ example: 'gemeente-demostad', description: 'Partner id from the convenant.' })
  @Matches(KEBAB_ID, { message: 'partner must be a partner id from the convenant' })
  partner!: string;

  @ApiProperty({ type: [String], example: ['uitvoering-plan'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @ArrayUnique()
  @Matches(KEBAB_ID, { each: true, message: 'each purpose must be a purpose id from the convenant' })
  purposes!: string[];

  @ApiPropertyOptional({ format: 'date-time', description: 'Default: now.' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  validFrom?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Default: open-ended.' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  validUntil?: string;
}

// ---- responses ----

/** What names a case in every answer: its opaque id, its non-personal reference and its phase. */
export class CaseIdentityDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'VH-2026-000123' })
  reference!: string;

  @ApiProperty({ enum: PHASES })
  phase!: Phase;
}

export class CaseSummaryDto extends CaseIdentityDto {
  @ApiProperty({ format: 'date-time' })
  openedAt!: string;
}

export class CaseListDto {
  @ApiProperty({ type: [CaseSummaryDto] })
  items!: CaseSummaryDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as cursor for the next page; null on the last.',
  })
  nextCursor!: string | null;
}

export class FieldValueViewDto {
  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }] })
  value!: FieldValue;

  @ApiProperty({ description: 'The partner that recorded the value.' })
  source!: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;
}

const FIELD_VIEW_MAP = {
  type: 'object' as const,
  additionalProperties: { $ref: getSchemaPath(FieldValueViewDto) },
  description:
    'Catalogue field id → current value. Only fields the convenant lets you read now are present; ' +
    'others are absent (not null).',
};

@ApiExtraModels(FieldValueViewDto)
export class PersonViewDto {
  @ApiProperty({ example: 'p_abcdefghijklmnopqrst', description: 'Pseudonymous reference of the person.' })
  subjectRef!: string;

  @ApiProperty({
    type: String,
    example: 'slachtoffer',
    description:
      "The person's role in the case (slachtoffer, pleger, kind or gezinslid), or, where the convenant withholds that role from you (its person_roles, e.g. because being named pleger can be criminal-law data), the general word it shows instead (e.g. betrokkene); then roleGeneralised is true. Persons shown under one word are listed together in an order that does not depend on their role.",
  })
  role!: string;

  @ApiPropertyOptional({
    enum: [true],
    description: 'Present (true) when role is the general word, not the role itself.',
  })
  roleGeneralised?: true;

  @ApiProperty(FIELD_VIEW_MAP)
  fields!: Record<string, FieldValueViewDto>;
}

export class ParticipationViewDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  partner!: string;

  @ApiProperty({ type: [String] })
  purposes!: string[];

  @ApiProperty({ format: 'date-time' })
  validFrom!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  validUntil!: string | null;

  @ApiProperty({ description: 'Whether it grants access at this moment.' })
  current!: boolean;
}

export class CallerParticipationDto {
  @ApiProperty({
    description: 'true in a response unless you read under emergency access (then see emergencyAccess).',
  })
  participant!: boolean;

  @ApiProperty({ description: 'The purpose of your token, under which you take part.' })
  purpose!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When your access ends.' })
  validUntil!: string | null;
}

export class EmergencyAccessUntilDto {
  @ApiProperty({ format: 'date-time', description: 'When your emergency access ends.' })
  until!: string;
}

@ApiExtraModels(FieldValueViewDto)
export class CaseViewDto extends CaseIdentityDto {
  @ApiProperty({ example: '2026.1+3f2a9c1b0d4e', description: 'The convenant version that decided.' })
  policyVersion!: string;

  @ApiProperty({ type: CallerParticipationDto })
  participation!: CallerParticipationDto;

  @ApiPropertyOptional({
    type: EmergencyAccessUntilDto,
    description: 'Present only when you read under a live emergency access grant (doorbraak).',
  })
  emergencyAccess?: EmergencyAccessUntilDto;

  @ApiProperty(FIELD_VIEW_MAP)
  fields!: Record<string, FieldValueViewDto>;

  @ApiProperty({ type: [PersonViewDto] })
  persons!: PersonViewDto[];
}

export class PersonRefDto {
  @ApiProperty({ example: 'p_abcdefghijklmnopqrst' })
  subjectRef!: string;

  @ApiProperty({ enum: PERSON_ROLES })
  role!: PersonRole;
}

export class RegisteredCaseDto extends CaseSummaryDto {
  @ApiProperty({ example: '2026.1+3f2a9c1b0d4e' })
  policyVersion!: string;

  @ApiProperty({ type: ParticipationViewDto, description: 'Your own participation, from now.' })
  participation!: ParticipationViewDto;

  @ApiProperty({ type: [PersonRefDto], description: 'In the order given.' })
  persons!: PersonRefDto[];
}

export class RecordedFieldDto {
  @ApiProperty({ example: 'plan.doelen' })
  field!: string;

  @ApiPropertyOptional()
  subjectRef?: string;
}

export class WriteResultDto {
  @ApiProperty({ example: '2026.1+3f2a9c1b0d4e' })
  policyVersion!: string;

  @ApiProperty({ type: [RecordedFieldDto] })
  recorded!: RecordedFieldDto[];
}

export class FieldVersionDto extends FieldValueViewDto {
  @ApiProperty({ description: 'The purpose under which it was recorded.' })
  purpose!: string;

  @ApiProperty({ type: String, nullable: true })
  reason!: string | null;
}

export class FieldHistoryDto {
  @ApiProperty({ example: 'plan.doelen' })
  field!: string;

  @ApiPropertyOptional()
  subjectRef?: string;

  @ApiProperty({ example: '2026.1+3f2a9c1b0d4e' })
  policyVersion!: string;

  @ApiProperty({ type: [FieldVersionDto], description: 'Newest first.' })
  versions!: FieldVersionDto[];
}
