import { Module } from '@nestjs/common';
import { AnomaliesRepository } from './anomalies.repository.js';
import { EmergencyReviewRepository } from './emergency-review.repository.js';
import { AuditController } from './audit.controller.js';
import { IntegrityController } from './integrity.controller.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';
import { OfficerGuard } from './officer.guard.js';

/** The privacy officer's API; the access-token guard and AuthAudit come from the global AuthModule. */
@Module({
  controllers: [AuditController, IntegrityController],
  providers: [AnomaliesRepository, EmergencyReviewRepository, AuditRepository, AuditService, OfficerGuard],
  exports: [AuditService, OfficerGuard],
})
export class AuditModule {}
