import { Global, Module } from '@nestjs/common';
import { AccessLogRepository } from './access-log.repository.js';
import { AccessLogSealer } from './access-log.sealer.js';

@Global()
@Module({
  providers: [AccessLogRepository, AccessLogSealer],
  exports: [AccessLogRepository, AccessLogSealer],
})
export class AccessLogModule {}
