/**
 * Module-level dependency rules, run by `npm run lint` (depcruise). Imports between src files
 * must not form a cycle: a cycle makes load order decide which binding is still undefined, and
 * it ties modules together so they can only be understood, tested and moved as one.
 * Type-only imports count too (tsPreCompilationDeps), so a cycle cannot hide behind `import type`.
 *
 * Folders are layers too (docs/architecture.md): policy and config at the bottom, then common,
 * db and keys, the access log, the kernel, and the features (auth, ops, cases, audit, signals, …)
 * above them; cli, demo and the files in src/ itself only compose. A folder may import a folder
 * below it, never one that (through others) imports it back: `no-folder-cycle` fails on a cycle
 * between top-level folders of src/ even when no single module is in a cycle.
 * src/dependency-rules.spec.ts proves both rules fire, on the fixtures in test/fixtures/dependency-rules.
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
      name: 'no-folder-cycle',
      severity: 'error',
      comment:
        'Top-level folders of src/ import each other in a cycle: move what both need into a folder below ' +
        'them (src/kernel, src/common), see docs/architecture.md.',
      scope: 'folder',
      from: { path: '^src/[^/]+$' },
      to: { circular: true, path: '^src/[^/]+$' },
    },
    {
      // The same fact as the eslint rule on src/policy (eslint.config.js), which names the folders
      // it forbids: this one also holds for a folder added later.
      name: 'policy-depends-on-nothing-else',
      severity: 'error',
      comment:
        'src/policy is a pure library: the gateway depends on it, never the reverse (docs/architecture.md).',
      from: { path: '^src/policy/' },
      to: { path: '^src/', pathNot: '^src/policy/' },
    },
    {
      // Keeps no-folder-cycle exact: depcruise draws a folder edge to the folder the imported
      // module is in, so an import of src/x/sub/m.ts from another folder would be an edge to
      // src/x/sub, not to src/x, and a cycle through it could go unseen. Importing only a
      // folder's top level also keeps its sub-folders its own internals.
      name: 'no-deep-import-across-folders',
      severity: 'error',
      comment: "Import another src/ folder's top-level modules, not the modules in its sub-folders.",
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/[^/]+/', pathNot: '^src/$1/' },
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
