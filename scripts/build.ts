import path from 'path';
import { buildClientPackage, buildFunctions, buildGameForWeb } from './build-lib';

buildFunctions()
  .then(async (names) => {
    console.log(`built ${names.length} functions: ${names.join(', ')}`);
    console.log(`built the mini-game package in ${path.relative(process.cwd(), await buildClientPackage())}`);
    console.log(`built the sample game for the browser in ${path.relative(process.cwd(), await buildGameForWeb())}`);
  })
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
