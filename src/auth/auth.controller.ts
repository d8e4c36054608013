import { Body, Controller, Get, Header, HttpCode, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { describeAttempt, identityOf } from '../access-log/request-log.js';
import { AccessTokenGuard, queryCarriesToken } from './access-token.guard.js';
import { TokenInUrlError } from './auth.errors.js';
import { PrincipalDto, TokenRequestDto, TokenResponseDto } from './auth.dto.js';
import { CurrentPrincipal, type Principal } from '../kernel/principal.js';
import { clientCertificateOf } from './client-certificate.js';
import { TokenService, type TokenResponse } from './token.service.js';

@ApiTags('oauth')
@Controller('v1/oauth')
export class AuthController {
  constructor(private readonly tokens: TokenService) {}

  @Post('token')
  @HttpCode(200)
  // RFC 6749 §5.1: token responses must not be cached.
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      'Exchange a partner-signed client assertion for an access token (client_credentials, private_key_jwt)',
    description:
      'Errors: 400 malformed request, 401 client authentication failed (with WWW-Authenticate), ' +
      '403 purpose not in the convenant or not allowed for the partner, 503 access log unavailable. ' +
      'Every outcome is logged.',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: TokenRequestDto })
  @ApiOkResponse({ type: TokenResponseDto })
  // The body is read by TokenService.parseTokenRequest, not the ValidationPipe (`unknown` is not
  // validated): a malformed request must be refused *and logged*, and OAuth asks unknown
  // parameters to be ignored rather than refused.
  async token(
    @Body() body: unknown,
    @Query() query: unknown,
    @Req() request: FastifyRequest,
  ): Promise<TokenResponse> {
    if (queryCarriesToken(query)) {
      const error = new TokenInUrlError();
      describeAttempt(request, { action: 'authenticate' }, error.message);
      throw error;
    }
    return this.tokens.exchange(body, identityOf(request), clientCertificateOf(request), request.ip);
  }

  @Get('whoami')
  @UseGuards(AccessTokenGuard)
  @Header('Cache-Control', 'no-store')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'The principal your access token establishes: partner, professional, purpose, token id',
    description:
      'For partners checking their set-up. 400 token in URL, 401 missing or invalid token, 403 no longer allowed.',
  })
  @ApiOkResponse({ type: PrincipalDto })
  whoami(@CurrentPrincipal() principal: Principal): Principal {
    return principal;
  }
}
