/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '\\.ts$': '<rootDir>/test/esbuild-transform.cjs' },
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json'],
  // Integration tests start processes and servers; two workers fit a 2-core machine.
  maxWorkers: 2,
  testTimeout: 30000,
};
