import { Module } from '@nestjs/common';
import { CasesModule } from '../cases/cases.module.js';
import { DemoSeeder } from './demo.seeder.js';

@Module({ imports: [CasesModule], providers: [DemoSeeder], exports: [DemoSeeder] })
export class DemoModule {}
