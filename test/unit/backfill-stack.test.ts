import { readFileSync } from 'node:fs';
import validateAsl from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { dataFolder, PARTITION_LAYOUTS, type PartitionLayout } from '../../src/backfill/worker.js';
import { ERROR_PREFIX } from '../../src/output/partition.js';
import { expandSam, samTranslatorAvailable } from '../helpers/sam.js';
import { LAYOUTS, loadTemplate, resolveIf, type Template, type Yaml } from '../helpers/template.js';

// The backfill part of the stack (EnableBackfill): its state machine's definition, its resources, and the
// permissions of its two roles as SAM deploys them.
const template = loadTemplate();
const ASL_PATH = new URL('../../statemachine/backfill.asl.json', import.meta.url);
const aslText = readFileSync(ASL_PATH, 'utf8');
const machine = template.Resources.BackfillStateMachine?.Properties;

/** The definition as Step Functions receives it: every `${Name}` replaced by a value of the right kind. */
const rendered = (values: Record<string, string>) =>
  JSON.parse(aslText.replace(/\$\{([A-Za-z]+)\}/g, (_, name: string) => values[name] ?? `\${${name}}`));
const SAMPLE = {
  SourceBucket: 'my-flow-logs',
  SourcePrefix: 'AWSLogs/',
  WorkerArn: 'arn:aws:lambda:us-east-1:123456789012:function:stack-BackfillFunction-abc',
  ResultBucket: 'stack-flowlogbucket-abc',
  MaxConcurrency: '100',
  ToleratedFailurePercentage: '5',
  ItemsPerBatch: '10',
};

describe('statemachine/backfill.asl.json', () => {
  it('is valid Amazon States Language, as written and as deployed', () => {
    // Act
    const raw = validateAsl(JSON.parse(aslText));
    const deployed = validateAsl(rendered(SAMPLE));
    // Assess
    expect(raw.errors).toStrictEqual([]);
    expect(raw.isValid).toBe(true);
    expect(deployed.errors).toStrictEqual([]);
    expect(deployed.isValid).toBe(true);
  });

  it('fails validation when broken (the check can fail)', () => {
    // Prepare
    const broken = rendered(SAMPLE);
    delete broken.States.Backfill.ItemProcessor.States.Worker.Next;
    // Act
    const result = validateAsl(broken);
    // Assess
    expect(result.isValid).toBe(false);
  });

  it('uses exactly the substitutions the template gives it', () => {
    // Act
    const used = new Set([...aslText.matchAll(/\$\{([A-Za-z]+)\}/g)].map((match) => match[1]));
    // Assess
    expect([...used].sort()).toStrictEqual(Object.keys(machine.DefinitionSubstitutions).sort());
    expect(Object.keys(SAMPLE).sort()).toStrictEqual([...used].sort());
    expect(machine.DefinitionUri).toBe('statemachine/backfill.asl.json');
  });

  it('lists the source with S3 ListObjectsV2, batches to the worker, writes results to S3, bounded by the parameters', () => {
    // Prepare
    const definition = rendered(SAMPLE);
    const map = definition.States.Backfill;
    const settings = definition.States.Settings.Parameters;
    // Assess
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    expect(map.ItemReader).toStrictEqual({
      Resource: 'arn:aws:states:::s3:listObjectsV2',
      Parameters: { Bucket: 'my-flow-logs', 'Prefix.$': '$.prefix' },
    });
    expect(map.ItemBatcher.MaxItemsPerBatchPath).toBe('$.itemsPerBatch');
    expect(map.MaxConcurrencyPath).toBe('$.maxConcurrency');
    expect(map.ToleratedFailurePercentagePath).toBe('$.toleratedFailurePercentage');
    expect(settings).toStrictEqual({
      'prefix.$': '$.prefix',
      'maxConcurrency.$': "States.StringToJson('100')",
      'toleratedFailurePercentage.$': "States.StringToJson('5')",
      'itemsPerBatch.$': "States.StringToJson('10')",
    });
    expect(map.ItemProcessor.States.Worker.Parameters.FunctionName).toBe(SAMPLE.WorkerArn);
    expect(map.ResultWriter).toStrictEqual({
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: { Bucket: SAMPLE.ResultBucket, Prefix: 'backfill-results' },
    });
    expect(machine.DefinitionSubstitutions).toMatchObject({
      MaxConcurrency: { Ref: 'BackfillMaxConcurrency' },
      ToleratedFailurePercentage: { Ref: 'BackfillToleratedFailurePercentage' },
      ItemsPerBatch: { Ref: 'BackfillItemsPerBatch' },
    });
  });

  it('fails a batch whose worker answered with damaged objects, naming them, and lets the others succeed', () => {
    // Prepare
    const states = rendered(SAMPLE).States.Backfill.ItemProcessor.States;
    // Assess: the worker's BatchResult (src/backfill/batch.ts) carries `damaged` (a count) and `cause` (text)
    expect(states.Worker.Next).toBe('CheckDamage');
    expect(states.CheckDamage.Choices).toStrictEqual([
      { Variable: '$.result.damaged', NumericGreaterThan: 0, Next: 'Damaged' },
    ]);
    expect(states.Damaged).toStrictEqual({
      Type: 'Fail',
      Error: 'DamagedObjects',
      CausePath: '$.result.cause',
    });
    expect(states[states.CheckDamage.Default].Type).toBe('Succeed');
  });

  it('refuses a prefix outside the source prefix before listing anything', () => {
    // Prepare
    const check = rendered(SAMPLE).States.CheckPrefix;
    // Assess
    expect(check.Default).toBe('PrefixOutsideSource');
    expect(check.Choices[0].And).toContainEqual({ Variable: '$.prefix', StringMatches: 'AWSLogs/*' });
  });
});

describe('template.yaml: backfill', () => {
  const backfillIds = Object.keys(template.Resources).filter((id) => id.startsWith('Backfill'));

  it('is off by default, and every one of its resources is under its condition', () => {
    expect(template.Parameters.EnableBackfill?.Default).toBe('false');
    expect(backfillIds.sort()).toStrictEqual([
      'BackfillFunction',
      'BackfillFunctionLogGroup',
      'BackfillFunctionRole',
      'BackfillStateMachine',
      'BackfillStateMachineRole',
    ]);
    for (const id of backfillIds) expect(template.Resources[id]?.Condition, id).toBe('Backfill');
  });

  it("caps the worker's concurrency by the map's MaxConcurrency, not by a standing reservation", () => {
    expect(template.Resources.BackfillFunction?.Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(template.Parameters.BackfillMaxConcurrency).toMatchObject({
      Default: 20,
      MinValue: 1,
      MaxValue: 1000,
    });
  });

  it("runs the transform with the transform's own settings", () => {
    // Prepare
    const transform = template.Resources.TransformFunction?.Properties.Environment.Variables;
    const worker = template.Resources.BackfillFunction?.Properties.Environment.Variables;
    // Assess
    for (const [name, value] of Object.entries(transform)) expect(worker[name], name).toStrictEqual(value);
    expect(worker.PARTITION_LAYOUT).toStrictEqual({ Ref: 'PartitionLayout' });
    expect(worker.PROCESSOR_BUFFER_MB).toStrictEqual({ Ref: 'ProcessorBufferSizeMB' });
  });

  it.each(Object.keys(LAYOUTS))('writes the folders the stream writes for PartitionLayout %s', (layout) => {
    // Prepare
    const stream = resolveIf(
      template.Resources.DeliveryStream?.Properties.ExtendedS3DestinationConfiguration,
      new Set(LAYOUTS[layout]),
    ) as Yaml;
    const keys = { account_id: '123456789012', region: 'eu-west-1', dt: '2026-01-02', hour: '03' };
    // Act
    const folder = dataFolder(keys, layout as PartitionLayout);
    // Assess
    expect(folder).toBe(
      (stream.Prefix as string).replace(
        /!\{partitionKeyFromLambda:([a-z_]+)\}/g,
        (_, name: string) => keys[name as keyof typeof keys],
      ),
    );
    expect(stream.ErrorOutputPrefix).toBe(ERROR_PREFIX);
    expect(Object.keys(PARTITION_LAYOUTS)).toContain(layout);
  });
});

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

const statementsOf = (resources: Template['Resources'], roleId: string): Statement[] =>
  (
    resolveIf(resources[roleId]?.Properties.Policies, new Set(['Backfill', 'UseKms'])) as {
      PolicyDocument: { Statement: Statement[] };
    }[]
  ).flatMap((policy) => policy.PolicyDocument.Statement);

const actionsOf = (statement: Statement) => [statement.Action].flat();

describe.skipIf(!samTranslatorAvailable)('template.yaml as SAM deploys it: backfill permissions', () => {
  const expanded = samTranslatorAvailable ? expandSam(template) : template;
  const resources = expanded.Resources;
  const s3 = (roleId: string) =>
    statementsOf(resources, roleId).filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('s3:') || action === '*'),
    );

  it('deploys the state machine with its own role, and no role SAM makes', () => {
    expect(resources.BackfillStateMachine?.Type).toBe('AWS::StepFunctions::StateMachine');
    expect(resources.BackfillStateMachine?.Properties.RoleArn).toStrictEqual({
      'Fn::GetAtt': ['BackfillStateMachineRole', 'Arn'],
    });
    expect(resources.BackfillStateMachine?.Properties.DefinitionS3Location).toBeDefined();
    expect(
      Object.keys(resources)
        .filter((id) => /Backfill.*Role$/.test(id))
        .sort(),
    ).toStrictEqual(['BackfillFunctionRole', 'BackfillStateMachineRole']);
  });

  it('lets the worker read the source prefix only and write the stream prefixes only', () => {
    expect(s3('BackfillFunctionRole')).toStrictEqual([
      {
        Sid: 'ReadSourcePrefix',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: {
          'Fn::Sub': 'arn:${AWS::Partition}:s3:::${BackfillSourceBucket}/${BackfillSourcePrefix}*',
        },
      },
      {
        Sid: 'WriteFlowRecordsAndErrors',
        Effect: 'Allow',
        Action: ['s3:PutObject'],
        Resource: [
          { 'Fn::Sub': '${FlowLogBucket.Arn}/flowlogs/*' },
          { 'Fn::Sub': '${FlowLogBucket.Arn}/errors/*' },
        ],
      },
    ]);
  });

  it('lets the state machine list the source prefix only and write only its results', () => {
    expect(s3('BackfillStateMachineRole')).toStrictEqual([
      {
        Sid: 'ListSourcePrefix',
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${BackfillSourceBucket}' },
        Condition: { StringLike: { 's3:prefix': { 'Fn::Sub': '${BackfillSourcePrefix}*' } } },
      },
      {
        Sid: 'WriteResults',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        Resource: { 'Fn::Sub': '${FlowLogBucket.Arn}/backfill-results/*' },
      },
    ]);
  });

  it('lets the state machine invoke its worker and run its own map only', () => {
    // Prepare
    const statements = statementsOf(resources, 'BackfillStateMachineRole');
    const bySid = (sid: string) => statements.find((statement) => statement.Sid === sid);
    // Assess
    expect(statements.flatMap(actionsOf).filter((a) => a.includes('*'))).toStrictEqual([]);
    expect(bySid('InvokeWorker')?.Resource).toStrictEqual([
      { 'Fn::GetAtt': ['BackfillFunction', 'Arn'] },
      { 'Fn::Sub': '${BackfillFunction.Arn}:*' },
    ]);
    expect(JSON.stringify(bySid('RunOwnMapChildren')?.Resource)).toContain(
      'stateMachine:${AWS::StackName}-backfill',
    );
    expect(resources.BackfillStateMachine?.Properties.StateMachineName).toStrictEqual({
      'Fn::Sub': '${AWS::StackName}-backfill',
    });
    expect(JSON.stringify(bySid('WatchOwnMapChildren')?.Resource)).toContain(
      'execution:${AWS::StackName}-backfill/*',
    );
  });
});
