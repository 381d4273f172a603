/**
 * Socket timeouts for every AWS client this project builds. The SDK's defaults wait indefinitely for a
 * response; a hung endpoint would then hold an invocation until the Lambda timeout, and Firehose would
 * retry the whole batch. Retries (adaptive, bounded attempts) stay the SDK's job.
 */
export const AWS_REQUEST_HANDLER = { connectionTimeout: 1000, requestTimeout: 3000 } as const;
