import { Global, Module } from '@nestjs/common';
import { AccessLogController } from './access-log.controller.js';
import { AccessLogRepository } from './access-log.repository.js';
import { AccessLogSealer } from './access-log.sealer.js';

@Global()
@Module({
  controllers: [AccessLogController],
  providers: [AccessLogRepository, AccessLogSealer],
  exports: [AccessLogRepository, AccessLogSealer],
})
export class AccessLogModule {}
