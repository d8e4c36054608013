import { Global, Inject, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import { AccessTokenIssuer } from './access-token.js';
import { AccessTokenGuard } from './access-token.guard.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { AuthAudit } from './auth-audit.js';
import { AuthController } from './auth.controller.js';
import { ensureDevKeys } from '../keys/dev-keys.js';
import {
  GATEWAY_KEY,
  GATEWAY_KEY_RING,
  GatewayKeyRing,
  loadGatewayKeyRing,
  type GatewayKey,
} from '../keys/gateway-key.js';
import { PartnerKeys } from '../keys/partner-keys.js';
import { AnonymousRefusalBudget } from './refusal-budget.js';
import { ReplayRepository } from './replay.repository.js';
import { TokenService } from './token.service.js';

/**
 * Partner authentication (token endpoint) and the guard every case route uses. Global, so any
 * module's controllers can say `@UseGuards(AccessTokenGuard)` without importing this module.
 */
@Global()
@Module({
  controllers: [AuthController],
  providers: [
    {
      provide: GATEWAY_KEY_RING,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => loadGatewayKeyRing(config.keysDir),
    },
    {
      // The key this instance signs with, fixed from start to stop (a rotation takes effect on restart).
      provide: GATEWAY_KEY,
      inject: [GATEWAY_KEY_RING],
      useFactory: (ring: GatewayKeyRing) => ring.current,
    },
    {
      provide: AccessTokenIssuer,
      inject: [GATEWAY_KEY, APP_CONFIG],
      useFactory: (key: GatewayKey, config: AppConfig) => new AccessTokenIssuer(key, config),
    },
    {
      provide: AccessTokenVerifier,
      inject: [GATEWAY_KEY_RING, APP_CONFIG],
      useFactory: (ring: GatewayKeyRing, config: AppConfig) => new AccessTokenVerifier(ring, config),
    },
    PartnerKeys,
    ReplayRepository,
    AnonymousRefusalBudget,
    AuthAudit,
    TokenService,
    AccessTokenGuard,
  ],
  exports: [AccessTokenGuard, AccessTokenVerifier, AuthAudit, GATEWAY_KEY, GATEWAY_KEY_RING],
})
export class AuthModule implements OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: PolicyRegistry,
  ) {}

  /** In the demo (never in production), partners without any key file get demo keys, so `npm start` just works. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.demo || this.config.env === 'production') return;
    const created = await ensureDevKeys(this.registry.current().convenant, this.config.keysDir);
    if (created.length > 0) {
      this.logger.log(
        `Generated demo keys for ${created.map((k) => k.partner).join(', ')} in ${this.config.keysDir}`,
      );
    }
  }
}
