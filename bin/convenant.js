#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm run build`, and by `npm ci` through `prepare`).
import('../dist/src/cli/main.js').catch((error) => {
  const notBuilt = error?.code === 'ERR_MODULE_NOT_FOUND';
  console.error(notBuilt ? `convenant: ${error.message}\nBuild it first: npm run build` : error);
  process.exitCode = 1;
});
