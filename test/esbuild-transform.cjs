// Jest transform: TypeScript → CommonJS with esbuild (already the build tool), so tests run
// the same compiler output as the bundles. Type checking is `npm run typecheck`.
'use strict';
const { transformSync } = require('esbuild');
const { createHash } = require('crypto');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, {
      loader: 'ts',
      format: 'cjs',
      target: 'node18',
      sourcemap: 'external',
      sourcefile: filename,
    });
    return { code, map };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(source).update(filename).update('v1').digest('hex');
  },
};
