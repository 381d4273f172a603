import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Template } from './template.js';

const script = fileURLToPath(new URL('./expand-sam.py', import.meta.url));

/** Whether Python's samtranslator (installed with cfn-lint) can be imported here. */
export const samTranslatorAvailable =
  spawnSync('python3', ['-c', 'import samtranslator'], { encoding: 'utf8' }).status === 0;

/** The CloudFormation template SAM deploys for `template`: the roles and policies SAM adds included. */
export function expandSam(template: Template): Template {
  const run = spawnSync('python3', [script], {
    input: JSON.stringify(template),
    encoding: 'utf8',
    // Only the region is needed (for ARNs); no credentials, no AWS call.
    env: { ...process.env, AWS_DEFAULT_REGION: 'us-east-1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`SAM transform failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Template;
}
