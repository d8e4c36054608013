import { Global, Module } from '@nestjs/common';
import { PolicyRegistry } from './policy.registry.js';

@Global()
@Module({ providers: [PolicyRegistry], exports: [PolicyRegistry] })
export class ConvenantModule {}
