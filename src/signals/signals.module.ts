import { Module } from '@nestjs/common';
import { CasesModule } from '../cases/cases.module.js';
import { SignalsController } from './signals.controller.js';
import { SignalsRepository } from './signals.repository.js';
import { SignalsService } from './signals.service.js';

/** The verwijsindex: involvement signals by keyed BSN hash. Uses the cases' policy and BSN cipher. */
@Module({
  imports: [CasesModule],
  controllers: [SignalsController],
  providers: [SignalsRepository, SignalsService],
})
export class SignalsModule {}
