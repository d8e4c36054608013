/**
 * Module-level dependency rules, run by `npm run lint` (depcruise). Imports between src files
 * must not form a cycle: a cycle makes load order decide which binding is still undefined, and
 * it ties modules together so they can only be understood, tested and moved as one.
 * Type-only imports count too (tsPreCompilationDeps), so a cycle cannot hide behind `import type`.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules in src/ import each other in a cycle: move the shared part into a module of its own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'A relative import depcruise cannot resolve would hide its edges from the cycle check.',
      from: {},
      to: { couldNotResolve: true, path: '^[.]' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.json'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
