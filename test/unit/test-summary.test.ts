/**
 * The line CI reads from `npm test`'s JSON report: every failed test once, a file that failed without a
 * failed test once, skipped tests apart.
 */
import { describe, expect, it } from 'vitest';
import { summarize, type VitestReport } from '../../scripts/test-summary.mjs';

const passing = { status: 'passed', assertionResults: [{ status: 'passed' }, { status: 'passed' }] };

function report(files: VitestReport['testResults'], counts: Partial<VitestReport>): VitestReport {
  return {
    numPassedTests: 0,
    numFailedTests: 0,
    numPendingTests: 0,
    numTodoTests: 0,
    testResults: files,
    ...counts,
  };
}

describe('the CI summary line', () => {
  it.each([
    {
      name: 'all passing',
      input: report([passing], { numPassedTests: 2 }),
      line: '2 passed, 0 failed',
    },
    {
      // As vitest 4 reported session 6's one failure: the file and its describe block both count as failed suites.
      name: 'one failed test inside a describe block',
      input: report(
        [passing, { status: 'failed', assertionResults: [{ status: 'failed' }, { status: 'passed' }] }],
        {
          numPassedTests: 3,
          numFailedTests: 1,
          numFailedTestSuites: 2,
        },
      ),
      line: '3 passed, 1 failed',
    },
    {
      name: 'a file that failed to load, no test of it run',
      input: report([passing, { status: 'failed', assertionResults: [] }], {
        numPassedTests: 2,
        numFailedTestSuites: 1,
      }),
      line: '2 passed, 1 failed',
    },
    {
      name: 'skipped and todo tests',
      input: report([passing], { numPassedTests: 2, numPendingTests: 2, numTodoTests: 1 }),
      line: '2 passed, 0 failed, 3 skipped',
    },
  ])('$name', ({ input, line }) => {
    expect(summarize(input)).toBe(line);
  });
});
