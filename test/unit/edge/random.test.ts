import fc from 'fast-check';

// The pool is filled from a counter instead of the CSPRNG, so the test can see exactly which
// bytes each token got: every byte handed out once, in order, across refills. (doMock and a
// require after it: this repo's transform does not hoist jest.mock above the imports.)
let fills = 0;
jest.doMock('crypto', () => ({
  ...jest.requireActual<typeof import('crypto')>('crypto'),
  randomFillSync: (buf: Buffer) => {
    fills += 1;
    for (let i = 0; i < buf.length; i++) buf[i] = (fills * 7 + i) & 0xff;
    return buf;
  },
}));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { randomBase64url } = require('../../../shared/edge/random') as typeof import('../../../shared/edge/random');

describe('randomBase64url', () => {
  test('hands out each pool byte once: tokens are consecutive slices, and a token never straddles a refill', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 150, maxLength: 400 }), (sizes) => {
        let expectedFill = fills;
        let next = 4096; // forces a refill at the first draw of each run, as a new pool would
        for (const n of sizes) {
          const bytes = Buffer.from(randomBase64url(n), 'base64url');
          expect(bytes.length).toBe(n);
          if (next + n > 4096) {
            expectedFill += 1;
            next = 0;
          }
          const want = Buffer.from(Array.from({ length: n }, (_, i) => (expectedFill * 7 + next + i) & 0xff));
          expect(bytes.equals(want)).toBe(true);
          next += n;
        }
        // Leave the pool spent, so the next run starts on a fresh fill as it assumes.
        while (next + 64 <= 4096) {
          randomBase64url(64);
          next += 64;
        }
        if (next < 4096) randomBase64url(4096 - next);
      }),
      { numRuns: 50 },
    );
  });

  test('base64url without padding', () => {
    expect(randomBase64url(12)).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(randomBase64url(9)).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(randomBase64url(1)).toMatch(/^[A-Za-z0-9_-]{2}$/);
  });

  test.each([0, 65, 1.5, -1, Number.NaN])('refuses %p bytes', (n) => {
    expect(() => randomBase64url(n)).toThrow(/bytes must be 1 to 64/);
  });
});
