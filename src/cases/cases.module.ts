import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { BSN_CIPHER, BsnCipher, loadBsnKeys } from './bsn.js';
import { CasePolicy } from './case-policy.js';
import { CasesController } from './cases.controller.js';
import { CasesRepository } from './cases.repository.js';
import { CasesService } from './cases.service.js';
import { LifecycleController } from './lifecycle.controller.js';
import { LifecycleRepository } from './lifecycle.repository.js';
import { LifecycleService } from './lifecycle.service.js';
import { ParticipationsController } from './participations.controller.js';
import { ParticipationsService } from './participations.service.js';

/**
 * Cases, persons, participations and contributions; the guard comes from the global AuthModule.
 * The repository and the BSN cipher are exported for the demo seeder, which writes cases the
 * same way.
 */
@Module({
  controllers: [CasesController, ParticipationsController, LifecycleController],
  providers: [
    {
      provide: BSN_CIPHER,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => new BsnCipher(await loadBsnKeys(config)),
    },
    CasePolicy,
    CasesRepository,
    CasesService,
    ParticipationsService,
    LifecycleRepository,
    LifecycleService,
  ],
  exports: [CasesRepository, BSN_CIPHER, CasePolicy],
})
export class CasesModule {}
