#!/usr/bin/env node
// The CLI is bundled by `npm run build` (esbuild) into dist/; this shim keeps the bin path stable.
import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli.js')) {
    console.error('replay-rasterizer: dist/cli.js is missing; run `npm run build` first');
    process.exit(1);
  }
  throw err;
});
