import { Global, Module } from '@nestjs/common';
import { PolicyVersionRepository } from './policy-version.repository.js';
import { PolicyRegistry } from './policy.registry.js';

@Global()
@Module({
  providers: [PolicyRegistry, PolicyVersionRepository],
  exports: [PolicyRegistry, PolicyVersionRepository],
})
export class ConvenantModule {}
