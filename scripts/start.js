import module from 'node:module';

/**
 * `npm start`: builds what changed (build-if-changed.js), then starts the gateway in this same
 * process, so a warm start pays for one Node.js start, not four. Node.js 22.1+ also keeps the
 * compiled code of the gateway's modules between starts (in the system's temp folder); loading
 * them is most of a warm start. `npm run start:prod` and the image run dist/src/main.js directly.
 */
await import('./build-if-changed.js');
module.enableCompileCache?.();
await import('../dist/src/main.js');
