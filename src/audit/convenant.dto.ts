import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';

/** Request and response shapes of the officers' convenant routes (matrix, document, versions, reload). */

export class MatrixCellDto {
  @ApiProperty({
    enum: ['all', 'some', 'none'],
    description: 'Fields of the section readable without doorbraak, in some phase or role.',
  })
  read!: 'all' | 'some' | 'none';

  @ApiProperty({ enum: ['all', 'some', 'none'] })
  write!: 'all' | 'some' | 'none';

  @ApiProperty({
    description: 'A doorbraak (emergency access) opens fields of this section that are closed without it.',
  })
  emergency!: boolean;

  @ApiProperty({ type: [String] })
  readFields!: string[];

  @ApiProperty({ type: [String] })
  writeFields!: string[];

  @ApiProperty({ type: [String] })
  emergencyFields!: string[];
}

export class MatrixRowDto {
  @ApiProperty() partner!: string;
  @ApiProperty() partnerName!: string;
  @ApiProperty() purpose!: string;
  @ApiProperty() purposeName!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/MatrixCellDto' },
    description: 'One cell per catalogue section.',
  })
  cells!: Record<string, MatrixCellDto>;

  @ApiProperty({ type: [String], description: 'Case-level actions (manage) allowed without doorbraak.' })
  caseActions!: string[];
}

export class ConvenantMatrixDto {
  @ApiProperty() convenant!: string;
  @ApiProperty({ description: 'The policy version the matrix was computed from.' }) version!: string;
  @ApiProperty({ type: [String] }) sections!: string[];
  @ApiProperty({ type: [MatrixRowDto] }) rows!: MatrixRowDto[];
}

export class DocumentQueryDto {
  @ApiPropertyOptional({ enum: ['html', 'markdown'], default: 'html' })
  @IsOptional()
  @IsIn(['html', 'markdown'])
  format?: 'html' | 'markdown';
}

export class PolicyVersionDto {
  @ApiProperty({ example: '2026.1+3f2a9c1b0d4e' }) version!: string;
  @ApiProperty() convenant!: string;
  @ApiProperty({ description: 'SHA-256 of the decision-relevant content.' }) hash!: string;
  @ApiProperty({ format: 'date-time' }) firstLoadedAt!: string;
  @ApiProperty({ format: 'date-time' }) lastLoadedAt!: string;
}

export class PolicyVersionListDto {
  @ApiProperty({ description: 'The version this instance enforces now.' }) inForce!: string;
  @ApiProperty({ type: [PolicyVersionDto], description: 'Newest first.' }) items!: PolicyVersionDto[];
}

export class PolicyVersionDetailDto extends PolicyVersionDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'File name → the YAML text this version was compiled from.',
  })
  sources!: Record<string, string>;
}

export class PolicyVersionParamsDto {
  @ApiProperty({ example: '2026.1+3f2a9c1b0d4e' })
  @Matches(/^[^/?#\s]{1,120}\+[0-9a-f]{12}$/, {
    message: 'version must be a policy version such as 2026.1+3f2a9c1b0d4e',
  })
  version!: string;
}

export class ReloadResultDto {
  @ApiProperty({ enum: ['reloaded', 'unchanged'] }) status!: 'reloaded' | 'unchanged';
  @ApiProperty({ description: 'The version in force after the reload.' }) version!: string;
  @ApiProperty() previousVersion!: string;
}
