// Types for the generated standalone validators (see scripts/build-validators.mjs).
import type { Validator } from './validator.js';
export const validateFlowRecord: Validator;
export const validateEmittedRecord: Validator;
/** Per field of the flow record, the validator of one value (see scripts/build-validators.mjs). */
export const FLOW_FIELD_VALIDATORS: Readonly<Record<string, Validator>>;
/** Fields whose schema is only an integer range: [minimum, maximum or null] (see scripts/build-validators.mjs). */
export const FLOW_FIELD_INTEGER_RANGES: Readonly<Record<string, readonly [number, number | null]>>;
