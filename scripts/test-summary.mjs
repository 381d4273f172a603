// Prints the closing line CI reads (`N passed, N failed, N skipped`) from vitest's JSON report.
import { readFileSync } from 'node:fs';

let report;
try {
  report = JSON.parse(readFileSync(new URL('../.vitest-results.json', import.meta.url), 'utf8'));
} catch (error) {
  console.log(`test report missing or unreadable: ${error.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const skipped = report.numPendingTests + report.numTodoTests;
// A suite that failed to load counts as a failure even though none of its tests ran.
const failed = report.numFailedTests + (report.numFailedTestSuites ?? 0) - countSuitesWithFailedTests(report);
console.log(`${report.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);

function countSuitesWithFailedTests(r) {
  return r.testResults.filter((suite) => suite.assertionResults.some((a) => a.status === 'failed')).length;
}
