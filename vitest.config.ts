import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // One file at a time. Many files compare two renders of one recording and expect the same
    // pictures; with two browser-heavy files at once on this 2-core machine such renders now and
    // then differed (stop 25: CI's steps-ahead test, 33 pictures against 23; a "quiet" render of
    // the load test at 16 against 11). Not explained yet (RELIABILITY.md, stop 25): that dependence
    // on load is the engine's, and stays open. Behaviour under load is tested on purpose, with
    // controlled busy cores (test/support/busy-cores.ts).
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
