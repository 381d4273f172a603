import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ADMIN_PORTS } from '../../src/config.js';
import { DATA_PREFIX, ERROR_PREFIX } from '../../src/output/partition.js';
import { expandSam, samTranslatorAvailable } from '../helpers/sam.js';
import { loadTemplate, resolveIf, type Template, type Yaml } from '../helpers/template.js';

// The stack's hardening, checked against the template as written (and, for IAM, as SAM expands it).
const template = loadTemplate();

if (!samTranslatorAvailable && process.env.CI === 'true')
  throw new Error('samtranslator is not installed: CI requires it (pip install cfn-lint)');
if (!samTranslatorAvailable)
  console.warn('samtranslator not found: skipping the checks of the roles SAM deploys (CI would fail here)');

interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

const listOf = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every branch of every Fn::If, without AWS::NoValue: all that some parameter values can make true. */
const branches = (node: unknown): unknown[] => {
  if (node === undefined) return [];
  if (Array.isArray(node)) return node.flatMap(branches);
  if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if ('Fn::If' in record) {
      const [, yes, no] = record['Fn::If'] as unknown[];
      return [...branches(yes), ...branches(no)];
    }
    if (record.Ref === 'AWS::NoValue') return [];
  }
  return [node];
};

// The documents of the AWS managed policies SAM attaches to the roles it makes, as AWS publishes them. A role
// with any other managed policy fails the checks below: they cannot see what it grants.
const MANAGED_POLICIES: Record<string, Statement[]> = {
  'service-role/AWSLambdaBasicExecutionRole': [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: '*',
    },
  ],
};

const managedStatements = (arn: unknown): Statement[] => {
  const text = typeof arn === 'string' ? arn : String((arn as Yaml)?.['Fn::Sub'] ?? JSON.stringify(arn));
  const name = text.split(':policy/')[1] ?? text;
  const statements = MANAGED_POLICIES[name];
  if (!statements) throw new Error(`managed policy ${name}: its document is not in the test's table`);
  return statements;
};

/** Every statement a role may be granted: inline, managed, and AWS::IAM::Policy resources attached to it. */
const roleStatements = (resources: Template['Resources'], roleId: string): Statement[] => {
  const role = resources[roleId]?.Properties;
  const documents = [
    ...branches(role?.Policies).map((policy) => (policy as Yaml).PolicyDocument),
    ...Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      .filter((r) => branches(r.Properties.Roles).some((ref) => (ref as Yaml)?.Ref === roleId))
      .map((r) => r.Properties.PolicyDocument),
  ];
  return [
    ...documents.flatMap((document) => branches(document?.Statement) as Statement[]),
    ...branches(role?.ManagedPolicyArns).flatMap(managedStatements),
  ];
};

const isLogsAction = (action: string) => action === '*' || action.toLowerCase().startsWith('logs:');

/** A resource that names every log group, or a wildcard family of them ('*', 'arn:…:logs:*:*:*', 'log-group:/aws/lambda/*'). */
const coversOtherLogGroups = (resource: unknown): boolean => {
  const text = typeof resource === 'string' ? resource : (resource as Yaml)?.['Fn::Sub'];
  if (typeof text !== 'string') return false; // Ref / Fn::GetAtt name one resource of the template
  if (text === '*') return true;
  const arn = text.replace(/\$\{[^}]*\}/g, 'x').split(':');
  if (arn[2] !== 'logs') return false;
  const [kind, name] = arn.slice(5);
  return kind === '*' || (kind === 'log-group' && (name ?? '*').includes('*'));
};

const grantsOtherLogGroups = (statement: Statement): boolean =>
  statement.Effect === 'Allow' &&
  (statement.NotAction !== undefined || listOf(statement.Action).some(isLogsAction)) &&
  (statement.NotResource !== undefined || listOf(statement.Resource).some(coversOtherLogGroups));

describe('template.yaml: function limits', () => {
  it('cannot time out later than Firehose waits for its Lambda processor (5 minutes)', () => {
    // Firehose gives up on an invocation after 5 minutes; a longer function timeout only hides the failure.
    const timeout = template.Parameters.FunctionTimeout;
    expect(timeout?.MaxValue).toBeLessThanOrEqual(300);
    expect(timeout?.Default).toBeLessThanOrEqual(timeout?.MaxValue as number);
    expect(template.Resources.TransformFunction?.Properties.Timeout).toStrictEqual({
      Ref: 'FunctionTimeout',
    });
  });
});

describe('template.yaml: concurrency', () => {
  // The backfill worker runs only during a backfill: the map's MaxConcurrency caps it (backfill-stack.test.ts),
  // and a reservation would hold the account's concurrency for it all the time.
  const functions = Object.entries(template.Resources).filter(
    ([id, r]) =>
      (r.Type === 'AWS::Serverless::Function' || r.Type === 'AWS::Lambda::Function') &&
      id !== 'BackfillFunction',
  );

  it.each(functions)('%s reserves (and so caps) its concurrency by default; 0 reserves none', (_, fn) => {
    // Prepare
    const parameter = template.Parameters.ReservedConcurrency;
    // Act
    const reserved = resolveIf(fn.Properties, new Set(['ReserveConcurrency'])) as Yaml;
    const unreserved = resolveIf(fn.Properties, new Set()) as Yaml;
    // Assess
    expect(reserved.ReservedConcurrentExecutions).toStrictEqual({ Ref: 'ReservedConcurrency' });
    expect(unreserved.ReservedConcurrentExecutions).toBeUndefined();
    expect(template.Conditions.ReserveConcurrency).toStrictEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ReservedConcurrency' }, '0'] }],
    });
    expect(parameter?.Default).toBeGreaterThan(0);
    expect(parameter?.MinValue).toBe(0);
  });
});

describe('template.yaml: encryption with KmsKeyArn', () => {
  const withKey = new Set(['UseKms']);

  it("encrypts the delivery stream's own buffer with the key when given", () => {
    // Prepare
    const input = template.Resources.DeliveryStream?.Properties.DeliveryStreamEncryptionConfigurationInput;
    // Act, Assess
    expect(resolveIf(input, withKey)).toStrictEqual({
      KeyType: 'CUSTOMER_MANAGED_CMK',
      KeyARN: { Ref: 'KmsKeyArn' },
    });
    expect(resolveIf(input, new Set())).toStrictEqual({ KeyType: 'AWS_OWNED_CMK' });
  });

  const logGroups = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup');

  it.each(logGroups)('%s is encrypted with the key when given', (_, logGroup) => {
    expect((resolveIf(logGroup.Properties, withKey) as Yaml).KmsKeyId).toStrictEqual({ Ref: 'KmsKeyArn' });
    expect((resolveIf(logGroup.Properties, new Set()) as Yaml).KmsKeyId).toBeUndefined();
  });
});

describe('template.yaml: bucket', () => {
  const bucket = template.Resources.FlowLogBucket?.Properties;

  it('logs server access to a bucket the deployer names, and is off by default', () => {
    // Prepare
    const parameter = template.Parameters.AccessLogBucketName;
    // Act
    const on = resolveIf(bucket, new Set(['HasAccessLogBucket'])) as Yaml;
    const off = resolveIf(bucket, new Set()) as Yaml;
    // Assess
    expect(parameter?.Default).toBe('');
    expect(template.Conditions.HasAccessLogBucket).toStrictEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AccessLogBucketName' }, ''] }],
    });
    expect(on.LoggingConfiguration).toMatchObject({ DestinationBucketName: { Ref: 'AccessLogBucketName' } });
    expect(off.LoggingConfiguration).toBeUndefined();
  });
});

describe('template.yaml: who may write flow records', () => {
  const resources = template.Resources;
  const statements = resources.FlowLogBucketPolicy?.Properties.PolicyDocument.Statement as Yaml[];
  const prefixes = [DATA_PREFIX, ERROR_PREFIX].map((prefix) => prefix.split('/')[0] as string);
  const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
  // Firehose writes both prefixes; a backfill worker, where the template has one, writes flow records too.
  // (The backfill state machine's role writes only its results, under backfill-results/: not a writer here.)
  const writers = Object.keys(resources).filter(
    (id) =>
      resources[id]?.Type === 'AWS::IAM::Role' && ['DeliveryStreamRole', 'BackfillFunctionRole'].includes(id),
  );

  /** Whether a Deny on PutObject under `prefix` applies to a principal (only aws:PrincipalArn is modelled). */
  const deniedPut = (principalArn: unknown, prefix: string) =>
    statements.some((statement) => {
      if (statement.Effect !== 'Deny' || statement.Principal !== '*') return false;
      if (!listOf(statement.Action).some((a) => ['s3:PutObject', 's3:*', '*'].includes(a))) return false;
      const targets = listOf(statement.Resource).map((r) => (r as Yaml)['Fn::Sub'] ?? r);
      if (!targets.includes(`\${FlowLogBucket.Arn}/${prefix}/*`)) return false;
      const conditions = Object.entries(statement.Condition ?? {}) as [string, Record<string, unknown>][];
      return conditions.every(([operator, keys]) => {
        // Every branch: a writer that some parameter values add (EnableBackfill) is allowed in those stacks.
        const allowed = branches(keys['aws:PrincipalArn']).map((v) => JSON.stringify(v));
        if (!['ArnNotEquals', 'StringNotEquals'].includes(operator) || Object.keys(keys).length !== 1)
          throw new Error(`condition ${operator} ${JSON.stringify(keys)}: not modelled by this test`);
        return !allowed.includes(JSON.stringify(principalArn));
      });
    });

  it.each(prefixes)(
    'denies PutObject under %s/ to every principal but the writers (forged flow data)',
    (prefix) => {
      expect(writers).toStrictEqual(['DeliveryStreamRole', 'BackfillFunctionRole']);
      expect(deniedPut(arnOf('BackfillStateMachineRole'), prefix)).toBe(true);
      for (const writer of writers) expect(deniedPut(arnOf(writer), prefix), writer).toBe(false);
      expect(deniedPut(arnOf('TransformFunctionRole'), prefix)).toBe(true);
      expect(deniedPut('arn:aws:iam::123456789012:role/anyone-else', prefix)).toBe(true);
      expect(deniedPut('arn:aws:iam::123456789012:root', prefix)).toBe(true);
    },
  );

  it('still lets the Firehose role put objects in the bucket', () => {
    const allowed = resolveIf(resources.DeliveryStreamRole?.Properties.Policies, new Set()) as Yaml[];
    expect(allowed.flatMap((p) => p.PolicyDocument.Statement)).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: expect.arrayContaining(['s3:PutObject']),
        Resource: expect.arrayContaining([{ 'Fn::Sub': '${FlowLogBucket.Arn}/*' }]),
      }),
    );
  });
});

describe('template.yaml: alarm topics', () => {
  const grants = (document: Yaml): Statement[] =>
    (document.Statement as Yaml[]).filter(
      (statement) => statement.Principal?.Service === 'cloudwatch.amazonaws.com',
    );

  it.each([
    ['AlarmTopicKey', 'KeyPolicy'],
    ['AlarmTopicPolicy', 'PolicyDocument'],
  ])('%s grants CloudWatch only for alarms of this account (confused deputy)', (id, property) => {
    // Prepare
    const document = template.Resources[id]?.Properties[property];
    // Act
    const cloudWatch = grants(document);
    // Assess
    expect(cloudWatch.length).toBeGreaterThan(0);
    for (const statement of cloudWatch)
      expect(statement.Condition).toStrictEqual({
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      });
  });
});

describe('named queries', () => {
  const portList = (sql: string) => {
    const match = /dstport IN \(([\d,\s]+)\)/.exec(sql);
    return (match?.[1] ?? '').split(',').map((port) => Number(port.trim()));
  };

  it('admin-port-attempts covers every default admin port the detector flags', () => {
    // Prepare
    const sql = readFileSync(new URL('../../queries/admin-port-attempts.sql', import.meta.url), 'utf8');
    const deployed = template.Resources.QueryAdminPortAttempts?.Properties.QueryString as string;
    // Act
    const ports = portList(sql);
    // Assess
    expect([...ports].sort((a, b) => a - b)).toStrictEqual([...DEFAULT_ADMIN_PORTS].sort((a, b) => a - b));
    expect(portList(deployed)).toStrictEqual(ports);
    expect(template.Parameters.AdminPorts?.Default).toBe(DEFAULT_ADMIN_PORTS.join(','));
  });
});

describe.skipIf(!samTranslatorAvailable)('template.yaml as SAM deploys it: logging permissions', () => {
  const expanded = samTranslatorAvailable ? expandSam(template) : template;
  const resources = expanded.Resources;
  const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');

  it('has functions and roles to check', () => {
    expect(functions.map(([id]) => id)).toContain('TransformFunction');
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role').length).toBeGreaterThan(0);
  });

  it('lets no role write to every log group (SAM attaches AWSLambdaBasicExecutionRole: logs actions on *)', () => {
    // Prepare
    const roles = Object.keys(resources).filter((id) => resources[id]?.Type === 'AWS::IAM::Role');
    // Act
    const broad = roles.flatMap((id) =>
      roleStatements(resources, id)
        .filter(grantsOtherLogGroups)
        .map((statement) => ({ role: id, statement })),
    );
    // Assess
    expect(broad).toStrictEqual([]);
  });

  it.each(functions)('%s logs to its own log group, and its role may write only there', (_, fn) => {
    // Prepare
    const roleId = fn.Properties.Role?.['Fn::GetAtt']?.[0] as string;
    const logGroupId = fn.Properties.LoggingConfig?.LogGroup?.Ref as string;
    // Act
    const logStatements = roleStatements(resources, roleId).filter((s) =>
      listOf(s.Action).some(isLogsAction),
    );
    // Assess
    expect(resources[roleId]?.Type).toBe('AWS::IAM::Role');
    expect(resources[logGroupId]?.Type).toBe('AWS::Logs::LogGroup');
    expect(logStatements).toStrictEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      }),
    ]);
  });
});
