// Test runner configuration: forked processes (node-rdkafka loads on one main thread per process) and one local broker for the run.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // node-rdkafka cannot load in worker threads; each test file gets its own child process.
    pool: 'forks',
    // Starts (or reuses) the local broker unless LUX_KAFKA_BROKERS names one.
    globalSetup: ['test/global-setup.ts'],
    // Integration tests wait on a real broker: transactions, group joins, topic creation.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // Two shared cores: more parallel files only add contention with the broker.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
