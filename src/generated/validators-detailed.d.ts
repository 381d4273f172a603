// Types for the generated standalone validators (see scripts/build-validators.mjs).
import type { Validator } from './validator.js';
export const validateFlowRecordDetailed: Validator;
