#!/usr/bin/env node
import module from 'node:module';

// Node.js 22.1+ keeps the compiled code of the modules a command loads between runs (in the
// system's temp folder), which saves a part of every CLI start; older Node.js has no such cache.
module.enableCompileCache?.();

// The compiled CLI lives in dist/ (built by `npm run build`, and by `npm ci` through `prepare`).
import('../dist/src/cli/main.js').catch((error) => {
  const notBuilt = error?.code === 'ERR_MODULE_NOT_FOUND';
  console.error(notBuilt ? `convenant: ${error.message}\nBuild it first: npm run build` : error);
  process.exitCode = 1;
});
