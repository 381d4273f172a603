// First, so that the peer database's read starts before the other modules (the AWS SDK's) evaluate.
import './prefetch.js';
import { fileURLToPath } from 'node:url';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { FirehoseTransformationHandler, FirehoseTransformationResult } from 'aws-lambda';
import { createEc2Inventory } from './aws/ec2-inventory.js';
import { createFirehoseReingester } from './aws/firehose-reingester.js';
import { AWS_REQUEST_HANDLER, withDeadline } from './aws/timeouts.js';
import { loadConfig } from './config.js';
import { createPipeline } from './pipeline.js';
import { PEER_DATA_PATH, peerDataRead } from './prefetch.js';

const WARM_UP_DEADLINE_MS = 8000;

// Built once per container: configuration errors fail the cold start, not a record.
const config = loadConfig(process.env);
const inventory = createEc2Inventory({ roles: config.enrichment.crossAccountRoles });
const pipeline = await createPipeline({
  config,
  inventory,
  // Lambda gives the init phase 10 s: a warm-up that has not finished by then is given up (and logged).
  warmUp: () =>
    withDeadline(
      WARM_UP_DEADLINE_MS,
      'cache warm-up',
      (async () => ({
        accountId: (await inventory.ownAccount()) ?? 'unknown',
        interfaces: await inventory.listInterfaces(config.enrichment.warmUpPages),
      }))(),
    ),
  reingester: createFirehoseReingester(new FirehoseClient({ requestHandler: AWS_REQUEST_HANDLER })),
  // Lambda sends stdout to CloudWatch Logs; raw JSON lines (no console prefix) keep EMF extractable.
  writeLine: (line) => process.stdout.write(`${line}\n`),
  // Shipped next to the bundle (see the template's build): read once per container, from the start.
  peerDataPath: fileURLToPath(PEER_DATA_PATH),
  ...(peerDataRead ? { peerDataRead } : {}),
});

/** Amazon Data Firehose data-transformation entry point. */
export const handler: FirehoseTransformationHandler = async (event, context) =>
  (await pipeline.transform(event, context)) as FirehoseTransformationResult;
