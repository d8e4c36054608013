import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength, MinLength, ValidateBy } from 'class-validator';
import { isValidBsn } from '../cases/bsn.js';

/** Requests and responses of the verwijsindex. Validation messages never echo the BSN. */

export class SignalInputDto {
  @ApiProperty({
    description:
      'Burgerservicenummer of the person you are involved with (9 digits, 11-test), in the body only. ' +
      'Kept only as a keyed hash; never stored, logged or returned in clear.',
  })
  @IsString()
  @ValidateBy({
    name: 'isBsn',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isValidBsn(value),
      defaultMessage: () => 'bsn must be nine digits that pass the 11-test',
    },
  })
  bsn!: string;

  @ApiPropertyOptional({
    maxLength: 200,
    description:
      "How other partners reach you about this person; default the convenant's contact for your partner.",
  })
  @IsOptional()
  @IsString()
  @MinLength(3)
  @MaxLength(200)
  contact?: string;
}

export class SignalIdParamsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  id!: string;
}

export class InvolvedPartnerDto {
  @ApiProperty({ example: 'gemeente-demostad' })
  partner!: string;

  @ApiProperty({ example: 'Veilig Thuis Rotterdam Rijnmond' })
  name!: string;

  @ApiProperty({ type: String, nullable: true, example: 'Veilig Thuis Rotterdam Rijnmond, 0800-2000 (24/7)' })
  contact!: string | null;

  @ApiProperty({ format: 'date-time', description: 'When that partner signalled.' })
  since!: string;
}

export class SignalViewDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  purpose!: string;

  @ApiProperty({ format: 'date-time' })
  signalledAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  withdrawnAt!: string | null;

  @ApiProperty({
    description:
      'Whether the convenant lets your purpose learn of other partners involved (involvement_matches).',
  })
  disclosed!: boolean;

  @ApiProperty({
    type: [InvolvedPartnerDto],
    description:
      'Other partners that signalled the same person (under a purpose that allows it); nothing else.',
  })
  involved!: InvolvedPartnerDto[];
}

export class SignalListDto {
  @ApiProperty({
    type: [SignalViewDto],
    description: 'Your live signals under your purpose, newest first (at most 200).',
  })
  items!: SignalViewDto[];
}
