import { Global, Module } from '@nestjs/common';
import { AccessLogRepository } from './access-log.repository.js';

@Global()
@Module({ providers: [AccessLogRepository], exports: [AccessLogRepository] })
export class AccessLogModule {}
