import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // No test may reach the instance metadata service (or any address but loopback).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_EC2_METADATA_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start moto_server and DuckDB; two cores are all we have.
    maxWorkers: 2,
    // The JSON report lets .ci/run print the `N passed, N failed` line CI reads.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
  },
});
