import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, ValidateBy, type ValidationOptions } from 'class-validator';
import { PHASES, type Phase } from '../policy/index.js';

/**
 * Requests and responses of the lifecycle routes (phase, emergency access). A reason must be a
 * real sentence: these reasons are what a privacy officer judges afterwards, so "x" or "spoed"
 * is refused. Validation messages never echo the text sent.
 */

export const SENTENCE_MIN_CHARS = 20;
export const SENTENCE_MIN_WORDS = 4;
export const SENTENCE_MAX_CHARS = 2000;

/** At least SENTENCE_MIN_CHARS characters and SENTENCE_MIN_WORDS words of letters, at most SENTENCE_MAX_CHARS. */
export function isSentence(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const text = value.trim();
  const words = text.match(/\p{L}{2,}/gu) ?? [];
  return (
    text.length >= SENTENCE_MIN_CHARS &&
    text.length <= SENTENCE_MAX_CHARS &&
    words.length >= SENTENCE_MIN_WORDS
  );
}

function IsSentence(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSentence',
      validator: {
        validate: isSentence,
        defaultMessage: (args) =>
          `${args?.property ?? 'reason'} must be at least one real sentence: ${SENTENCE_MIN_CHARS} to ` +
          `${SENTENCE_MAX_CHARS} characters with at least ${SENTENCE_MIN_WORDS} words`,
      },
    },
    options,
  );
}

const REASON_DOC = {
  minLength: SENTENCE_MIN_CHARS,
  maxLength: SENTENCE_MAX_CHARS,
  description: `At least one real sentence (${SENTENCE_MIN_CHARS}+ characters, ${SENTENCE_MIN_WORDS}+ words). Never shown to other partners' professionals by name.`,
};

export class ChangePhaseDto {
  @ApiProperty({
    enum: PHASES,
    description: 'The new phase; afgesloten closes the case, leaving it reopens it.',
  })
  @IsIn(PHASES)
  phase!: Phase;

  @ApiProperty({ ...REASON_DOC, example: 'Het huisverbod is verlengd en de veiligheid is stabiel.' })
  @IsString()
  @IsSentence()
  reason!: string;
}

export class EmergencyAccessDto {
  @ApiProperty({
    ...REASON_DOC,
    example: 'Melding van acuut geweld in het gezin, kinderen thuis; wij moeten nu de risico’s kennen.',
  })
  @IsString()
  @IsSentence()
  reason!: string;
}

// ---- responses ----

export class PhaseChangeViewDto {
  @ApiProperty({ format: 'uuid' })
  caseId!: string;

  @ApiProperty({ enum: PHASES })
  from!: Phase;

  @ApiProperty({ enum: PHASES })
  phase!: Phase;

  @ApiProperty({ enum: ['forward', 'back', 'close', 'reopen'] })
  kind!: string;

  @ApiProperty({ format: 'date-time' })
  changedAt!: string;

  @ApiProperty({ description: 'Closing: the participations it ended (all of them); otherwise 0.' })
  endedParticipations!: number;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'Reopening: your new participation, from now; otherwise null.',
  })
  participationId!: string | null;

  @ApiProperty({ example: '2026.1+3f2a9c1b0d4e' })
  policyVersion!: string;
}

export class PhaseChangeEntryDto {
  @ApiProperty({ enum: PHASES })
  from!: Phase;

  @ApiProperty({ enum: PHASES })
  to!: Phase;

  @ApiProperty()
  reason!: string;

  @ApiProperty({ description: 'The partner that changed it (never the professional).' })
  partner!: string;

  @ApiProperty()
  purpose!: string;

  @ApiProperty({ format: 'date-time' })
  changedAt!: string;
}

export class PhaseHistoryDto {
  @ApiProperty({ format: 'uuid' })
  caseId!: string;

  @ApiProperty({ enum: PHASES })
  phase!: Phase;

  @ApiProperty({ type: [PhaseChangeEntryDto], description: 'Oldest first.' })
  changes!: PhaseChangeEntryDto[];
}

export class EmergencyGrantViewDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  caseId!: string;

  @ApiProperty()
  partner!: string;

  @ApiProperty()
  purpose!: string;

  @ApiProperty({ description: 'The written reason given with the claim.' })
  reason!: string;

  @ApiProperty({ format: 'date-time' })
  grantedAt!: string;

  @ApiProperty({ format: 'date-time', description: 'After this the case is closed to the claimant again.' })
  expiresAt!: string;

  @ApiProperty({ description: 'Whether the grant is in force now.' })
  live!: boolean;
}

export class EmergencyGrantListDto {
  @ApiProperty({ type: [EmergencyGrantViewDto], description: 'Newest first; no professionals named.' })
  items!: EmergencyGrantViewDto[];
}
