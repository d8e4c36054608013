import { Option, type Command } from 'commander';
import { explain } from '../../policy/explain.js';
import { PERSON_ROLES, PHASES, type PersonRole, type Phase } from '../../policy/model.js';
import type { CommandRegistration } from '../context.js';
import { dirOf, loadPolicy, printJson, reportingPolicyErrors, withDir } from '../policy-source.js';
import { renderExplanation } from './explain.render.js';

interface ExplainOptions {
  partner: string;
  purpose: string;
  phase?: Phase;
  role?: PersonRole;
  flag?: string[];
  emergency?: boolean;
  participant: boolean;
  dir?: string;
  json?: boolean;
}

export const explainCommand: CommandRegistration = (program, ctx) => {
  withDir(
    program
      .command('explain')
      .description('show, field by field, what a partner may read and write under a purpose, and why'),
  )
    .requiredOption('--partner <partner>', 'partner id, e.g. gemeente-demostad')
    .requiredOption('--purpose <purpose>', 'purpose id, e.g. plan-van-aanpak')
    .addOption(new Option('--phase <phase>', 'only this phase (default: all phases)').choices(PHASES))
    .addOption(
      new Option('--role <role>', 'only this role for person-level fields (default: all roles)').choices(
        PERSON_ROLES,
      ),
    )
    .option('--flag <flag...>', 'case flags set on the case, e.g. geheim-adres')
    .option('--emergency', 'under emergency access (doorbraak)')
    .option('--no-participant', 'as a partner that does not take part in the case')
    .option('--json', 'machine-readable output, every field included')
    .action((dirArg: string | undefined, opts: ExplainOptions, command: Command) => {
      const json = opts.json === true;
      const policy = loadPolicy(ctx, dirOf(ctx, command, dirArg, opts.dir), json);
      if (!policy) return;
      reportingPolicyErrors(ctx, json, () => {
        const explanation = explain(policy.compiled, {
          partner: opts.partner,
          purpose: opts.purpose,
          ...(opts.phase ? { phase: opts.phase } : {}),
          ...(opts.role ? { role: opts.role } : {}),
          flags: opts.flag ?? [],
          emergency: opts.emergency === true,
          participant: opts.participant,
        });
        if (json) printJson(ctx, explanation);
        else for (const line of renderExplanation(explanation, ctx.style)) ctx.out(line);
      });
    });
};
