import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { FirehoseTransformationHandler, FirehoseTransformationResult } from 'aws-lambda';
import { createFirehoseReingester } from './aws/firehose-reingester.js';
import { loadConfig } from './config.js';
import { createPipeline } from './pipeline.js';

// Built once per container: configuration errors fail the cold start, not a record.
const config = loadConfig(process.env);
const pipeline = await createPipeline({
  config,
  env: process.env,
  reingester: createFirehoseReingester(new FirehoseClient({})),
  // Lambda sends stdout to CloudWatch Logs; raw JSON lines (no console prefix) keep EMF extractable.
  writeLine: (line) => process.stdout.write(`${line}\n`),
});

/** Amazon Data Firehose data-transformation entry point. */
export const handler: FirehoseTransformationHandler = async (event) =>
  (await pipeline.transform(event)) as FirehoseTransformationResult;
