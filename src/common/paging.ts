import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/**
 * `limit` of a paged query. Only plain decimal digits become a number; anything else ('0x10',
 * '1e2', '1;…') stays a string and fails @IsInt, so a filter is either exactly what it says or a 400.
 */
export function PageLimit(max: number, byDefault: number): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: max, default: byDefault }),
    IsOptional(),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value,
    ),
    IsInt(),
    Min(1),
    Max(max),
  );
}

/** `cursor` of a paged query: opaque base64url as this API hands it out (checked again when decoded). */
export function PageCursor(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description: 'The nextCursor of the previous page.' }),
    IsOptional(),
    Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor must be a nextCursor this API returned' }),
  );
}
