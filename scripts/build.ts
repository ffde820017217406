import { buildFunctions } from './build-lib';

buildFunctions()
  .then((names) => console.log(`built ${names.length} functions: ${names.join(', ')}`))
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
