import { Module } from '@nestjs/common';
import { AuditModule } from './audit.module.js';
import { ConvenantController } from './convenant.controller.js';
import { ConvenantService } from './convenant.service.js';

/**
 * The officers' routes about the convenant itself. Apart from the global ConvenantModule (the
 * registry every module needs) because these routes depend on the audit module.
 */
@Module({ imports: [AuditModule], controllers: [ConvenantController], providers: [ConvenantService] })
export class ConvenantApiModule {}
