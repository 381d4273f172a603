import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * The AWS SDK's default credential chain, as the Lambda bundle has it: the environment only. Lambda always
 * hands a function its role's credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
 * so the rest of the chain (SSO, ini files, credential processes, web identity, instance metadata) is code
 * the function never runs — and it costs the cold start, through the Node built-ins it imports
 * (child_process, readline, dgram) and the STS/SSO clients it carries. scripts/build.mjs aliases
 * `@aws-sdk/credential-provider-node` to this module for the Lambda bundles only; the CLI keeps the whole chain.
 */
export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);
