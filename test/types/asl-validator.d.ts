// asl-validator ships no types; what the tests use of it.
declare module 'asl-validator' {
  interface AslValidationResult {
    readonly isValid: boolean;
    readonly errors: readonly unknown[];
  }
  export default function validateAsl(definition: unknown): AslValidationResult;
}
