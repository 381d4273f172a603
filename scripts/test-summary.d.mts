export interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites?: number;
  testResults: { status: string; assertionResults: { status: string }[] }[];
}
export function summarize(report: VitestReport): string;
