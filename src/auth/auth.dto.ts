import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CLIENT_ASSERTION_TYPE } from './client-assertion.js';

/**
 * The token request as documented in OpenAPI. The controller reads the body itself (token.service
 * parseTokenRequest) so that a malformed request is refused and logged like any other refusal.
 */
export class TokenRequestDto {
  @ApiProperty({ enum: ['client_credentials'] })
  grant_type!: 'client_credentials';

  @ApiProperty({ enum: [CLIENT_ASSERTION_TYPE] })
  client_assertion_type!: string;

  @ApiProperty({
    description:
      'JWT signed by the partner (private_key_jwt): iss = sub = partner id, aud = this endpoint, ' +
      'exp at most 300 s after iat, jti of at least 128 random bits (single use), kid in the header, ' +
      'and the acting professional in the `professional` claim. ES256, ES384, EdDSA, PS256 or RS256.',
  })
  client_assertion!: string;

  @ApiProperty({ description: 'The one purpose (convenant purpose id) the token is for.', example: 'triage' })
  scope!: string;

  @ApiPropertyOptional({ description: "If sent, must equal the assertion's issuer." })
  client_id?: string;
}

export class TokenResponseDto {
  @ApiProperty({ description: 'JWT (typ at+jwt) signed by the gateway; send as "Authorization: Bearer …".' })
  access_token!: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type!: 'Bearer';

  @ApiProperty({ description: 'Seconds until the access token expires.' })
  expires_in!: number;

  @ApiProperty({ description: 'The purpose the token is bound to.' })
  scope!: string;
}

export class PrincipalDto {
  @ApiProperty({ example: 'gemeente-demostad' })
  partner!: string;

  @ApiProperty({ description: 'Opaque id of the acting professional (token sub).' })
  professional!: string;

  @ApiProperty({ example: 'triage' })
  purpose!: string;

  @ApiProperty({
    description: "The access token's jti; log entries of this token's requests can be correlated with it.",
  })
  tokenId!: string;

  @ApiProperty({
    required: false,
    description: 'Set when the token is bound to a client certificate (mTLS, RFC 8705 x5t#S256).',
  })
  certificateThumbprint?: string;
}
