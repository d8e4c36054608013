import { Global, Module } from '@nestjs/common';
import { Lifecycle } from './lifecycle.js';
import { Metrics } from './metrics.js';

/** Running the gateway: drain state (readiness) and Prometheus metrics. */
@Global()
@Module({ providers: [Lifecycle, Metrics], exports: [Lifecycle, Metrics] })
export class OpsModule {}
