import { PageCursor, PageLimit } from '../common/paging.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
} from 'class-validator';
import { FIELD_ID, SUBJECT_REF } from '../cases/cases.dto.js';

/**
 * Request and response shapes of the privacy officer's routes. Filters are validated strictly:
 * anything that is not exactly an id, a timestamp or a flag is a 400, so every filter reaches SQL
 * as a typed parameter.
 */

export const MAX_EVENTS_PAGE = 200;
export const DEFAULT_EVENTS_PAGE = 50;
const ID = /^[A-Za-z0-9._@-]{1,64}$/;
const ACTIONS = [
  'authenticate',
  'list',
  'read',
  'write',
  'manage',
  'history',
  'audit',
  'emergency-access',
  'signal',
  'retention',
] as const;

/** The filters of the events query, shared by every route that selects access log entries the same way. */
export class AuditEventsFilterDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or after this moment.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries before this moment.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  caseId?: string;

  @ApiPropertyOptional({ description: 'Partner id.' })
  @IsOptional()
  @Matches(ID, { message: 'partner must be a partner id' })
  partner?: string;

  @ApiPropertyOptional({ description: 'Opaque id of a professional.' })
  @IsOptional()
  @Matches(ID, { message: 'professional must be an opaque professional id' })
  professional?: string;

  @ApiPropertyOptional({ description: 'Purpose id.' })
  @IsOptional()
  @Matches(ID, { message: 'purpose must be a purpose id' })
  purpose?: string;

  @ApiPropertyOptional({ enum: ['allowed', 'denied'] })
  @IsOptional()
  @IsIn(['allowed', 'denied'])
  outcome?: 'allowed' | 'denied';

  @ApiPropertyOptional({ enum: ACTIONS })
  @IsOptional()
  @IsIn(ACTIONS)
  action?: (typeof ACTIONS)[number];

  @ApiPropertyOptional({ description: 'Entries whose fields contain this catalogue field id.' })
  @IsOptional()
  @Matches(FIELD_ID, { message: 'field must be a catalogue field id such as plan.doelen' })
  field?: string;

  @ApiPropertyOptional({ type: Boolean })
  @IsOptional()
  // Only the words true and false become booleans; anything else stays a string and fails.
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  emergency?: boolean;
}

export class AuditEventsQueryDto extends AuditEventsFilterDto {
  @PageLimit(MAX_EVENTS_PAGE, DEFAULT_EVENTS_PAGE)
  limit?: number;

  @PageCursor()
  cursor?: string;
}

export class AuditEventDto {
  @ApiProperty({ description: 'Position in the access log.' }) seq!: string;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty() traceId!: string;
  @ApiProperty({ type: String, nullable: true }) partner!: string | null;
  @ApiProperty({ type: String, nullable: true }) professional!: string | null;
  @ApiProperty({ type: String, nullable: true }) purpose!: string | null;
  @ApiProperty({ type: [String] }) legalBasis!: string[];
  @ApiProperty() action!: string;
  @ApiProperty({ type: String, nullable: true }) caseId!: string | null;
  @ApiProperty({ type: String, nullable: true }) dataSubjectRef!: string | null;
  @ApiProperty({ type: [String] }) fields!: string[];
  @ApiProperty({ enum: ['allowed', 'denied'] }) outcome!: 'allowed' | 'denied';
  @ApiProperty({ type: String, nullable: true }) ruleId!: string | null;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ type: String, nullable: true }) policyVersion!: string | null;
  @ApiProperty() emergency!: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    description:
      'The identity the gateway gave the request that left this entry; null for entries before it existed.',
  })
  requestId!: string | null;
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items!: AuditEventDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export const MAX_TIMELINE_BUCKETS = 400;
export const TIMELINE_BUCKETS = ['day', 'hour'] as const;
export type TimelineBucket = (typeof TIMELINE_BUCKETS)[number];

export class AuditTimelineQueryDto extends AuditEventsFilterDto {
  @ApiProperty({
    enum: TIMELINE_BUCKETS,
    description: `Day or hour in Europe/Amsterdam time; at most ${MAX_TIMELINE_BUCKETS} buckets.`,
  })
  @IsIn(TIMELINE_BUCKETS)
  bucket!: TimelineBucket;
}

export class TimelinePartnerCountDto {
  @ApiProperty({ type: String, nullable: true, description: 'Partner id (null: entries without a partner).' })
  partner!: string | null;
  @ApiProperty() allowed!: number;
  @ApiProperty() denied!: number;
  @ApiProperty() total!: number;
}

export class TimelineBucketDto {
  @ApiProperty({ description: 'Local (Europe/Amsterdam) day YYYY-MM-DD, or hour YYYY-MM-DD HH.' })
  key!: string;
  @ApiProperty({ format: 'date-time', description: 'The bucket starts at this moment (inclusive).' })
  start!: string;
  @ApiProperty({ format: 'date-time', description: 'The bucket ends at this moment (exclusive).' })
  end!: string;
  @ApiProperty() total!: number;
  @ApiProperty({ type: [TimelinePartnerCountDto] }) partners!: TimelinePartnerCountDto[];
}

export class AuditTimelineDto {
  @ApiProperty({ enum: TIMELINE_BUCKETS }) bucket!: TimelineBucket;
  @ApiProperty({ example: 'Europe/Amsterdam' }) timeZone!: string;
  @ApiProperty({ description: 'Entries matching the filters.' }) total!: number;
  @ApiProperty({ type: [TimelineBucketDto], description: 'Non-empty buckets, oldest first.' })
  buckets!: TimelineBucketDto[];
}

export class SubjectReportRequestDto {
  @ApiProperty({ example: 'p_abcdefghijklmnopqrst', description: 'Pseudonymous reference of the person.' })
  @Matches(SUBJECT_REF, { message: 'subjectRef must be a subject reference such as p_abcdefghijklmnopqrst' })
  subjectRef!: string;

  @ApiPropertyOptional({ default: false, description: 'Name the professional of each access too.' })
  @IsOptional()
  @IsBoolean()
  includeProfessionals?: boolean;
}

export class AuditExportQueryDto {
  @ApiProperty({
    enum: ['ndjson', 'csv', 'ldv'],
    description:
      'ndjson: verifiable (seals, checkpoints); csv: for reading; ldv: one Logboek Dataverwerkingen record per line.',
  })
  @IsIn(['ndjson', 'csv', 'ldv'])
  format!: 'ndjson' | 'csv' | 'ldv';

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or after this moment.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries before this moment.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'Only the entries of this case. The NDJSON file is then a selection (scope "selection"): each entry ' +
      'is checked against its own seal, but only entries whose chain reaches a checkpoint inside the file ' +
      'are proven by its signature.',
  })
  @IsOptional()
  @IsUUID('all')
  caseId?: string;
}

export class AnomaliesQueryDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'Window start; default seven days before to.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Window end; default now.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class EmergencyReviewQueryDto {
  @ApiPropertyOptional({ enum: ['pending', 'reviewed'], default: 'pending' })
  @IsOptional()
  @IsIn(['pending', 'reviewed'])
  status?: 'pending' | 'reviewed';
}

export class EmergencyReviewParamsDto {
  @ApiProperty({ description: 'Position (seq) of the emergency access in the access log.' })
  @Matches(/^[1-9]\d{0,17}$/, { message: 'seq must be a positive integer' })
  seq!: string;
}

export class EmergencyReviewRequestDto {
  @ApiProperty({ enum: ['lawful', 'unlawful', 'unclear'] })
  @IsIn(['lawful', 'unlawful', 'unclear'])
  judgement!: 'lawful' | 'unlawful' | 'unclear';

  @ApiProperty({ maxLength: 2000 })
  @IsString()
  @MaxLength(2000)
  comment!: string;
}
