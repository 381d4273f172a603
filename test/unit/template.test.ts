import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HANDLER_OPTIONS, PEER_DATA_FILE } from '../../scripts/build.mjs';
import { syncedTemplate } from '../../scripts/sync-queries.mjs';
import { COLUMNS } from '../../src/columns.js';
import { loadConfig } from '../../src/config.js';
import { FLAG_IDS } from '../../src/detect/rules/index.js';
import { DEFAULT_FORMAT, TGW_DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { DATA_PREFIX, ERROR_PREFIX, PARTITION_KEY_NAMES } from '../../src/output/partition.js';
import { METRIC } from '../../src/telemetry.js';
import { LAYOUTS, loadTemplate, references, resolveIf, type Yaml } from '../helpers/template.js';

// What cfn-lint cannot see: these are the checks the service makes at deploy or query time.
const template = loadTemplate();
const resources = template.Resources;
const stream = resources.DeliveryStream?.Properties.ExtendedS3DestinationConfiguration;
const emitted = JSON.parse(
  readFileSync(new URL('../../schemas/emitted-record.json', import.meta.url), 'utf8'),
) as {
  properties: Record<string, { type?: string | string[] }>;
};

const folders = (prefix: string) => [...prefix.matchAll(/([a-z_]+)=/g)].map((m) => m[1]);
const lambdaKeys = (prefix: string) =>
  [...prefix.matchAll(/partitionKeyFromLambda:([a-z_]+)/g)].map((m) => m[1]);

describe('template.yaml: delivery', () => {
  it('buffers at least 64 MiB, as dynamic partitioning requires', () => {
    expect(stream.DynamicPartitioningConfiguration.Enabled).toBe(true);
    expect(stream.BufferingHints.SizeInMBs).toStrictEqual({ Ref: 'DeliveryBufferSizeMB' });
    expect(template.Parameters.DeliveryBufferSizeMB?.MinValue).toBeGreaterThanOrEqual(64);
    expect(template.Parameters.DeliveryBufferSizeMB?.Default).toBeGreaterThanOrEqual(64);
  });

  it('has an error prefix that separates error types', () => {
    expect(stream.ErrorOutputPrefix).toBe(ERROR_PREFIX);
    expect(ERROR_PREFIX).toContain('!{firehose:error-output-type}');
  });

  it('uses the default layout prefix the local pipeline writes', () => {
    expect(resolveIf(stream.Prefix, new Set(LAYOUTS['account-region-day-hour']))).toBe(DATA_PREFIX);
  });

  it.each(Object.entries(LAYOUTS))(
    'layout %s: partition keys are ones the function emits, folders repeat no column',
    (_, truths) => {
      const prefix = resolveIf(stream.Prefix, new Set(truths)) as string;
      for (const key of lambdaKeys(prefix)) expect(PARTITION_KEY_NAMES).toContain(key);
      for (const folder of folders(prefix)) expect(Object.keys(emitted.properties)).not.toContain(folder);
    },
  );

  it('compresses JSON with GZIP, and Parquet not at all (Parquet compresses itself)', () => {
    expect(resolveIf(stream.CompressionFormat, new Set())).toBe('GZIP');
    expect(resolveIf(stream.CompressionFormat, new Set(['Parquet']))).toBe('UNCOMPRESSED');
    expect(
      (resolveIf(stream, new Set()) as Record<string, unknown>).DataFormatConversionConfiguration,
    ).toBeUndefined();
    expect(
      (resolveIf(stream, new Set(['Parquet'])) as Record<string, unknown>).DataFormatConversionConfiguration,
    ).toMatchObject({
      Enabled: true,
      SchemaConfiguration: { TableName: { Ref: 'FlowLogTable' } },
    });
  });

  it('invokes the function as its processor and logs delivery errors', () => {
    const [processor] = stream.ProcessingConfiguration.Processors;
    expect(processor.Type).toBe('Lambda');
    expect(processor.Parameters).toContainEqual({
      ParameterName: 'LambdaArn',
      ParameterValue: { 'Fn::GetAtt': ['TransformFunction', 'Arn'] },
    });
    expect(stream.CloudWatchLoggingOptions.Enabled).toBe(true);
    // Without KmsKeyArn (stack-security.test.ts checks the key's case).
    expect(
      resolveIf(resources.DeliveryStream?.Properties.DeliveryStreamEncryptionConfigurationInput, new Set()),
    ).toStrictEqual({ KeyType: 'AWS_OWNED_CMK' });
  });
});

describe('template.yaml: function', () => {
  const fn = resources.TransformFunction;

  it('is built by npm run build and ships the bundle with the peer database', () => {
    // SAM's esbuild builder would package the bundle alone: the Makefile runs npm ci (prepare = build).
    expect(fn?.Metadata.BuildMethod).toBe('makefile');
    const makefile = readFileSync(new URL('../../Makefile', import.meta.url), 'utf8');
    const target = makefile.split(/\n(?=\S)/).find((block) => block.startsWith('build-TransformFunction:'));
    expect(target).toMatch(/\n\tnpm ci\b/);
    const copied = /\n\tcp ([^\n]+) "\$\(ARTIFACTS_DIR\)\/"/.exec(target ?? '')?.[1]?.split(' ');
    expect(copied).toStrictEqual([
      'dist/handler.mjs',
      'dist/handler.mjs.map',
      PEER_DATA_FILE,
      'dist/peer-data.NOTICE.txt',
    ]);
    expect(HANDLER_OPTIONS.entryPoints).toStrictEqual(['src/handler.ts']);
    expect(HANDLER_OPTIONS.outExtension).toStrictEqual({ '.js': '.mjs' });
    expect(fn?.Properties.Handler).toBe('handler.handler');
    expect(fn?.Properties.Runtime).toMatch(/^nodejs2[24]\.x$/);
    expect(fn?.Properties.Architectures).toStrictEqual(['arm64']);
  });

  it('may do exactly what it needs, on the narrowest resources', () => {
    // Its own role: SAM's would add AWSLambdaBasicExecutionRole (stack-security.test.ts checks the expansion).
    expect(fn?.Properties.Role).toStrictEqual({ 'Fn::GetAtt': ['TransformFunctionRole', 'Arn'] });
    expect(fn?.Properties.Policies).toBeUndefined();
    const role = resources.TransformFunctionRole?.Properties;
    const statements = resolveIf(role?.Policies, new Set(['HasCrossAccountRoles'])) as {
      PolicyDocument: { Statement: { Sid: string; Action: string[]; Resource: unknown }[] };
    }[];
    const bySid = Object.fromEntries(
      statements.flatMap((p) => p.PolicyDocument.Statement).map((s) => [s.Sid, s]),
    );
    expect(Object.keys(bySid).sort()).toStrictEqual([
      'AssumeCrossAccountInventoryRoles',
      'DescribeInventory',
      'ReingestIntoOwnStream',
      'WriteOwnLogGroup',
    ]);
    expect(bySid.WriteOwnLogGroup?.Action).toStrictEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(bySid.WriteOwnLogGroup?.Resource).toStrictEqual({ 'Fn::GetAtt': ['FunctionLogGroup', 'Arn'] });
    expect(bySid.DescribeInventory?.Action).toStrictEqual([
      'ec2:DescribeInstances',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeRouteTables',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs',
    ]);
    expect(bySid.ReingestIntoOwnStream?.Action).toStrictEqual(['firehose:PutRecordBatch']);
    expect(bySid.ReingestIntoOwnStream?.Resource).toStrictEqual({
      'Fn::Sub':
        'arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:deliverystream/${StreamName}',
    });
    expect(bySid.AssumeCrossAccountInventoryRoles?.Action).toStrictEqual(['sts:AssumeRole']);
    expect(bySid.AssumeCrossAccountInventoryRoles?.Resource).toStrictEqual({ Ref: 'CrossAccountRoleArns' });
    const withoutRoles = resolveIf(role?.Policies, new Set()) as {
      PolicyDocument: { Statement: { Sid: string }[] };
    }[];
    expect(withoutRoles.flatMap((p) => p.PolicyDocument.Statement).map((s) => s.Sid)).not.toContain(
      'AssumeCrossAccountInventoryRoles',
    );
  });

  it('runs with V8 flags Node accepts in NODE_OPTIONS, the ones the benchmark measures', async () => {
    const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
    const flags = fn?.Properties.Environment.Variables.NODE_OPTIONS as string;
    expect(flags).toMatch(/--max-semi-space-size=\d+/);
    expect(pkg.scripts.bench).toContain(flags);
    // Node refuses some V8 flags in NODE_OPTIONS and exits at start-up: the function would never start.
    const started = spawnSync(process.execPath, ['-e', 'process.stdout.write("started")'], {
      env: { ...process.env, NODE_OPTIONS: flags },
      encoding: 'utf8',
    });
    expect(started.stderr).toBe('');
    expect(started.stdout).toBe('started');
  });

  it('feeds one LogFormat parameter to both the flow log and the function', () => {
    expect(resources.FlowLog?.Properties.LogFormat).toStrictEqual({ Ref: 'LogFormat' });
    expect(resolveIf(fn?.Properties.Environment.Variables.FLOW_LOG_FORMAT, new Set())).toStrictEqual({
      Ref: 'LogFormat',
    });
    expect(template.Parameters.LogFormat?.Default).toBe(DEFAULT_FORMAT);
    expect(resources.FlowLog?.Properties.LogDestinationType).toBe('kinesis-data-firehose');
    expect(resources.FlowLog?.Properties.DeliverLogsPermissionArn).toBeUndefined();
  });

  it("adds AdditionalLogFormats, when given, to the function's formats only", () => {
    // Prepare
    const variable = fn?.Properties.Environment.Variables.FLOW_LOG_FORMAT;

    // Act
    const withOthers = resolveIf(variable, new Set(['HasAdditionalLogFormats']));

    // Assess
    expect(template.Parameters.AdditionalLogFormats).toMatchObject({ Type: 'String', Default: '' });
    expect(template.Conditions.HasAdditionalLogFormats).toStrictEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AdditionalLogFormats' }, ''] }],
    });
    expect(withOthers).toStrictEqual({
      'Fn::Join': [',', [{ Ref: 'LogFormat' }, { Ref: 'AdditionalLogFormats' }]],
    });
    // The stack's own flow log keeps its one format.
    expect(resources.FlowLog?.Properties.LogFormat).toStrictEqual({ Ref: 'LogFormat' });
  });
});

describe('template.yaml: Transit Gateway flow log', () => {
  const variable = resources.TransformFunction?.Properties.Environment.Variables.FLOW_LOG_FORMAT;
  const flowLog = resources.TransitGatewayFlowLog;

  it('is made only for a transit gateway id (none by default), into the same stream', () => {
    expect(template.Parameters.TransitGatewayId).toMatchObject({ Type: 'String', Default: '' });
    expect(template.Conditions.CreateTransitGatewayFlowLog).toStrictEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'TransitGatewayId' }, ''] }],
    });
    expect(flowLog?.Condition).toBe('CreateTransitGatewayFlowLog');
    expect(flowLog?.Properties).toStrictEqual({
      ResourceId: { Ref: 'TransitGatewayId' },
      ResourceType: 'TransitGateway',
      // The only interval TGW flow logs accept; TrafficType is refused for them.
      MaxAggregationInterval: 60,
      LogDestinationType: 'kinesis-data-firehose',
      LogDestination: { 'Fn::GetAtt': ['DeliveryStream', 'Arn'] },
      LogFormat: { Ref: 'TransitGatewayLogFormat' },
    });
  });

  it("uses AWS's default TGW format, which the function reads beside the default VPC format", () => {
    expect(template.Parameters.TransitGatewayLogFormat?.Default).toBe(TGW_DEFAULT_FORMAT);
    const both = `${String(template.Parameters.LogFormat?.Default)},${TGW_DEFAULT_FORMAT}`;
    expect(loadConfig({ FLOW_LOG_FORMAT: both }).formats).toHaveLength(2);
  });

  it.each([
    {
      truths: ['CreateTransitGatewayFlowLog'],
      expected: { 'Fn::Join': [',', [{ Ref: 'LogFormat' }, { Ref: 'TransitGatewayLogFormat' }]] },
    },
    {
      truths: ['CreateTransitGatewayFlowLog', 'HasAdditionalLogFormats'],
      expected: {
        'Fn::Join': [
          ',',
          [{ Ref: 'LogFormat' }, { Ref: 'AdditionalLogFormats' }, { Ref: 'TransitGatewayLogFormat' }],
        ],
      },
    },
  ])("adds the TGW format to the function's formats when $truths", ({ truths, expected }) => {
    expect(resolveIf(variable, new Set(truths))).toStrictEqual(expected);
  });
});

describe('template.yaml: structure', () => {
  it('has no dependency cycle between resources', () => {
    const ids = new Set(Object.keys(resources));
    const edges = new Map<string, string[]>();
    for (const [id, resource] of Object.entries(resources)) {
      edges.set(
        id,
        [...references(resource.Properties)].filter((ref) => ids.has(ref)),
      );
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (id: string, path: string[]): void => {
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'visiting') throw new Error(`cycle: ${[...path, id].join(' → ')}`);
      state.set(id, 'visiting');
      for (const next of edges.get(id) ?? []) visit(next, [...path, id]);
      state.set(id, 'done');
    };
    expect(() => {
      for (const id of ids) visit(id, []);
    }).not.toThrow();
    // The function must not depend on the stream (the stream depends on the function).
    expect(edges.get('TransformFunction')).not.toContain('DeliveryStream');
  });

  it('keeps failed records at least as long as the data, and blocks public access and plain HTTP', () => {
    const bucket = resources.FlowLogBucket?.Properties;
    const rules = bucket?.LifecycleConfiguration.Rules as {
      Id: string;
      ExpirationInDays?: unknown;
      Prefix?: string;
    }[];
    const data = rules.find((r) => r.Id === 'flow-records');
    const errors = rules.find((r) => r.Id === 'error-records');
    expect(errors?.Prefix).toBe(ERROR_PREFIX.split('/')[0]?.concat('/'));
    expect(errors?.ExpirationInDays).toStrictEqual(data?.ExpirationInDays);
    expect(template.Parameters.ExpirationDays?.Default).toBe(2555);
    expect(Object.values(bucket?.PublicAccessBlockConfiguration)).toStrictEqual([true, true, true, true]);
    const policy = resources.FlowLogBucketPolicy?.Properties.PolicyDocument.Statement[0];
    expect(policy.Effect).toBe('Deny');
    expect(policy.Condition).toStrictEqual({ Bool: { 'aws:SecureTransport': 'false' } });
  });

  it('has its named queries in step with queries/*.sql', () => {
    const text = readFileSync(new URL('../../template.yaml', import.meta.url), 'utf8');
    expect(syncedTemplate(text)).toBe(text);
  });
});

describe('template.yaml: Glue table', () => {
  const table = resources.FlowLogTable?.Properties.TableInput;

  it('has exactly the columns of schemas/emitted-record.json, with the types of the column table', () => {
    const columns = table.StorageDescriptor.Columns as { Name: string; Type: string }[];
    expect(columns.map((c) => c.Name)).toStrictEqual(Object.keys(emitted.properties));
    expect(columns).toStrictEqual(COLUMNS.map((c) => ({ Name: c.name, Type: c.glue })));
  });

  it.each(Object.entries(LAYOUTS))(
    'layout %s: projection keys, partition keys, folders and location agree',
    (_, truths) => {
      const set = new Set(truths);
      const parameters = resolveIf(table.Parameters, set) as Record<string, unknown>;
      const partitionKeys = (resolveIf(table.PartitionKeys, set) as { Name: string; Type: string }[]).map(
        (k) => k.Name,
      );
      const prefix = resolveIf(stream.Prefix, set) as string;
      const location = (resolveIf(parameters['storage.location.template'], set) as { 'Fn::Sub': string })[
        'Fn::Sub'
      ];
      const projected = [
        ...new Set(
          Object.keys(parameters)
            .filter((k) => /^projection\.[a-z_]+\.type$/.test(k))
            .map((k) => k.split('.')[1]),
        ),
      ];
      expect(partitionKeys).toStrictEqual(folders(prefix));
      expect(projected.sort()).toStrictEqual([...partitionKeys].sort());
      expect(location).toBe(
        `s3://\${FlowLogBucket}/${prefix.replace(/=!\{partitionKeyFromLambda:[a-z_]+\}/g, (m) => m)}`.replace(
          /([a-z_]+)=!\{partitionKeyFromLambda:[a-z_]+\}/g,
          '$1=${!$1}',
        ),
      );
      expect(parameters['projection.enabled']).toBe('true');
      expect(parameters['projection.dt.type']).toBe('date');
      if (partitionKeys.includes('hour')) {
        expect(parameters['projection.hour.range']).toBe('0,23');
        expect(parameters['projection.hour.digits']).toBe('2');
      }
    },
  );

  it('switches SerDe and formats with the Parquet condition', () => {
    const json = resolveIf(table.StorageDescriptor, new Set()) as Yaml;
    const parquet = resolveIf(table.StorageDescriptor, new Set(['Parquet'])) as Yaml;
    expect(json.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(parquet.SerdeInfo.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(parquet.InputFormat).toMatch(/Parquet/);
    expect(parquet.OutputFormat).toMatch(/Parquet/);
  });
});

describe('template.yaml: alarms', () => {
  const emittedMetrics = new Set<string>([
    ...Object.values(METRIC).filter((v) => typeof v === 'string'),
    ...FLAG_IDS.map((flag) => METRIC.flag(flag)),
    ...['none', 'info', 'warning', 'critical'].map((s) => METRIC.severity(s)),
    ...['ok', 'not_found', 'unavailable', 'skipped'].map((s) => METRIC.enrichment(s)),
  ]);
  const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');

  it.each(alarms.filter(([, a]) => a.Properties.Namespace === 'FlowlogEnrich'))(
    '%s watches a metric the function emits',
    (_, alarm) => {
      expect(emittedMetrics).toContain(alarm.Properties.MetricName);
      expect(alarm.Properties.Dimensions).toStrictEqual([
        { Name: 'DeliveryStream', Value: { Ref: 'StreamName' } },
      ]);
      expect(alarm.Properties.Period).toBe(60);
    },
  );

  it('encrypts the alarm topics with a key CloudWatch may use (alias/aws/sns would silently block alarms)', () => {
    for (const topic of ['CriticalTopic', 'WarningTopic']) {
      expect(resources[topic]?.Properties.KmsMasterKeyId).toStrictEqual({ Ref: 'AlarmTopicKey' });
    }
    const statements = resources.AlarmTopicKey?.Properties.KeyPolicy.Statement as {
      Principal: unknown;
      Action: unknown;
    }[];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
  });

  it('routes critical findings to the critical topic', () => {
    const critical = alarms
      .filter(([, a]) => JSON.stringify(a.Properties.AlarmActions).includes('CriticalTopic'))
      .map(([, a]) => a.Properties.MetricName);
    expect(critical).toEqual(
      expect.arrayContaining(['Flag_port_scan', 'Flag_external_to_internal_tier', 'Flag_brute_force']),
    );
    expect(resources.TransformFunction?.Properties.Environment.Variables.METRICS_NAMESPACE).toBe(
      'FlowlogEnrich',
    );
  });
});
