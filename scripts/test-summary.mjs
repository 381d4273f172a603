// Prints the closing line CI reads (`N passed, N failed, N skipped`) from vitest's JSON report.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The closing line of a vitest JSON report. Failed tests count once each, and so does a file that failed
 * without any failed test (it did not load, or a hook threw): vitest's `numFailedTestSuites` also counts
 * every describe block around a failed test, so it cannot be added as it is.
 */
export function summarize(report) {
  const skipped = report.numPendingTests + report.numTodoTests;
  const failedFiles = report.testResults.filter(
    (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
  ).length;
  const failed = report.numFailedTests + failedFiles;
  return `${report.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
}

function main() {
  let report;
  try {
    report = JSON.parse(readFileSync(new URL('../.vitest-results.json', import.meta.url), 'utf8'));
  } catch (error) {
    console.log(`test report missing or unreadable: ${error.message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log(summarize(report));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
