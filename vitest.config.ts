import { defineConfig } from 'vitest/config';

/**
 * Unit tests that need a fresh module state: one measures its process's own memory (other files' leftovers
 * must not count); the others mock the AWS SDK's clients with aws-sdk-client-mock, whose stubs would stay on
 * the clients of every file that later shares the worker.
 */
const OWN_PROCESS = [
  'test/unit/memory-bound.test.ts',
  'test/unit/ec2-inventory.test.ts',
  'test/unit/firehose-reingester.test.ts',
  'test/unit/redrive.test.ts',
];

export default defineConfig({
  test: {
    // No test may reach the instance metadata service (or any address but loopback).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_EC2_METADATA_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start moto_server and DuckDB; two cores are all we have.
    maxWorkers: 2,
    // The JSON report lets .ci/run print the `N passed, N failed` line CI reads.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
    projects: [
      {
        extends: true,
        // Unit test files share a worker's loaded modules instead of importing them all again (it halves
        // their time). Integration tests keep a fresh module state each: aws-sdk-client-mock patches the SDK's
        // clients for the rest of a worker's life, which the tests against moto_server must not see.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: OWN_PROCESS, isolate: false },
      },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts', ...OWN_PROCESS] },
      },
    ],
  },
});
