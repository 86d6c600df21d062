import { defineConfig } from 'vitest/config';

/**
 * `npm run test:chaos`: the long reliability scenarios (test/reliability/*.chaos.ts): faults injected
 * into real Redis, PostgreSQL, S3, worker and Chromium processes, the service-level fuzz, hostile
 * recordings through the worker, and load. One file at a time: they start process fleets and
 * measure throughput and memory, which parallel files on two cores would distort.
 * `npm test` runs test/reliability/*.test.ts (the quick ones) and never these.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.chaos.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
  },
});
