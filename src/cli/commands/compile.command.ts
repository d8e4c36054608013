import type { Command } from 'commander';
import type { ConvenantRawRule, RuleConditions } from '../../policy/compile.js';
import type { CommandRegistration } from '../context.js';
import { dirOf, loadPolicy, printJson, reportingPolicyErrors, withDir } from '../policy-source.js';
import { table, type Cell } from '../table.js';

export const compileCommand: CommandRegistration = (program, ctx) => {
  withDir(
    program
      .command('compile')
      .description('print the CASL rules the gateway enforces for a partner and purpose'),
  )
    .requiredOption('--partner <partner>', 'partner id')
    .requiredOption('--purpose <purpose>', 'purpose id')
    .option('--json', 'machine-readable output: { policyVersion, partner, purpose, rules }')
    .action(
      (
        dirArg: string | undefined,
        opts: { partner: string; purpose: string; dir?: string; json?: boolean },
        command: Command,
      ) => {
        const json = opts.json === true;
        const policy = loadPolicy(ctx, dirOf(ctx, command, dirArg, opts.dir), json);
        if (!policy) return;
        reportingPolicyErrors(ctx, json, () => {
          const { compiled } = policy;
          const rules = compiled.rulesFor(opts.partner, opts.purpose);
          if (json) {
            printJson(ctx, {
              policyVersion: compiled.version,
              partner: opts.partner,
              purpose: opts.purpose,
              rules,
              levelGuards: compiled.levelGuards,
            });
            return;
          }
          ctx.out(`${opts.partner} / ${opts.purpose}  ${ctx.style('dim', compiled.version)}`);
          ctx.out(ctx.style('dim', 'Allow rules first, then deny rules: in CASL the later rule wins.'));
          ctx.out();
          const rows = rules.flatMap((r): Cell[][] => [
            [
              r.inverted ? { text: 'deny', format: 'red' } : { text: 'allow', format: 'green' },
              r.ruleId,
              r.action.join(', '),
              conditionsText(r.conditions),
            ],
            ['', '', '', { text: fieldsText(r), format: 'dim' }],
          ]);
          for (const line of table(rows, ctx.style)) ctx.out(line);
          if (rules.length === 0) ctx.out('  no rule applies: everything is denied');
          ctx.out();
          ctx.out(
            ctx.style(
              'dim',
              `Always last: ${compiled.levelGuards.map((g) => g.ruleId).join(', ')} ` +
                '(person-level fields are decided per person, case-level fields without one).',
            ),
          );
        });
      },
    );
};

function fieldsText(r: ConvenantRawRule): string {
  return r.fields ? `fields: ${r.fields.join(', ')}` : 'the case itself';
}

function conditionsText(c: RuleConditions | undefined): string {
  if (!c) return 'always';
  return Object.entries(c)
    .map(([path, v]) => `${path} ${conditionValue(v)}`)
    .join(' and ');
}

function conditionValue(v: RuleConditions[keyof RuleConditions]): string {
  if (v === true) return '= true';
  if (v && '$in' in v) return `in [${v.$in.join(', ')}]`;
  if (v && '$all' in v) return `has all [${v.$all.join(', ')}]`;
  return JSON.stringify(v);
}
