import { readFileSync } from 'node:fs';
import validateAsl from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { expandSam, samTranslatorAvailable } from '../helpers/sam.js';
import { loadTemplate, resolveIf, type Template } from '../helpers/template.js';

// The fleet-wide detections (EnableFleetDetections): the schedule, the state machine that runs the fleet
// queries in Athena and publishes their rows, and the permissions of its roles as SAM deploys them.
const template = loadTemplate();
const aslText = readFileSync(
  new URL('../../statemachine/fleet-detections.asl.json', import.meta.url),
  'utf8',
);
const machine = template.Resources.FleetDetectionStateMachine?.Properties;
const SAMPLE: Record<string, string> = {
  PortScanQueryId: '11111111-2222-3333-4444-555555555555',
  BruteForceQueryId: '66666666-7777-8888-9999-000000000000',
  CriticalTopicArn: 'arn:aws:sns:us-east-1:123456789012:stack-critical',
  WorkGroup: 'stack-flowlogs',
  Database: 'flowlog_enrich',
  WindowMinutes: '30',
};
const rendered = () =>
  JSON.parse(aslText.replace(/\$\{([A-Za-z]+)\}/g, (_, name: string) => SAMPLE[name] ?? `\${${name}}`));
const sqlOf = (name: string) => readFileSync(new URL(`../../queries/${name}.sql`, import.meta.url), 'utf8');
const placeholders = (sql: string) => (sql.replace(/--[^\n]*/g, '').match(/\?/g) ?? []).length;

describe('statemachine/fleet-detections.asl.json', () => {
  it('is valid Amazon States Language, as written and as deployed', () => {
    for (const definition of [JSON.parse(aslText), rendered()]) {
      const result = validateAsl(definition);
      expect(result.errors).toStrictEqual([]);
      expect(result.isValid).toBe(true);
    }
  });

  it('fails validation when broken (the check can fail)', () => {
    // Prepare
    const broken = rendered();
    broken.States.EachQuery.ItemProcessor.States.Run.Next = 'Nowhere';
    // Assess
    expect(validateAsl(broken).isValid).toBe(false);
  });

  it('uses exactly the substitutions the template gives it', () => {
    const used = new Set([...aslText.matchAll(/\$\{([A-Za-z]+)\}/g)].map((match) => match[1]));
    expect([...used].sort()).toStrictEqual(Object.keys(machine.DefinitionSubstitutions).sort());
    expect(Object.keys(SAMPLE).sort()).toStrictEqual([...used].sort());
    expect(machine.DefinitionSubstitutions).toMatchObject({
      PortScanQueryId: { Ref: 'QueryFleetPortScans' },
      BruteForceQueryId: { Ref: 'QueryFleetBruteForce' },
      CriticalTopicArn: { Ref: 'CriticalTopic' },
      WorkGroup: { Ref: 'AthenaWorkGroup' },
      WindowMinutes: { Ref: 'FleetDetectionWindowMinutes' },
    });
  });

  it.each([
    ['fleet-port-scans', 'QueryFleetPortScans'],
    ['fleet-brute-force', 'QueryFleetBruteForce'],
  ])('runs %s, the named query, with one value per placeholder, end and minutes in turn', (name, id) => {
    // Prepare
    const definition = rendered();
    const run = definition.States.EachQuery.ItemProcessor.States.Run;
    const queries = definition.States.Queries.Result as { name: string; namedQueryId: string }[];
    // Act
    const values = /^States\.Array\((.*)\)$/.exec(run.Parameters['ExecutionParameters.$'])?.[1]?.split(', ');
    // Assess
    expect(template.Resources[id]?.Properties.QueryString).toBe(`${sqlOf(name).trimEnd()}\n`);
    expect(values).toHaveLength(placeholders(sqlOf(name)));
    expect(values?.filter((_, i) => i % 2 === 0).every((v) => v === '$.end')).toBe(true);
    expect(values?.filter((_, i) => i % 2 === 1).every((v) => v === '$.minutes')).toBe(true);
    expect(run.Resource).toBe('arn:aws:states:::athena:startQueryExecution.sync');
    expect(run.Parameters.WorkGroup).toBe(SAMPLE.WorkGroup);
    const entry = queries.find((query) => query.name === name);
    expect(entry?.namedQueryId).toBe(
      id === 'QueryFleetPortScans' ? SAMPLE.PortScanQueryId : SAMPLE.BruteForceQueryId,
    );
  });

  it('passes the window end as a quoted literal (Athena inserts parameters as SQL text) and publishes only when rows come back', () => {
    // Prepare
    const definition = rendered();
    const steps = definition.States.EachQuery.ItemProcessor.States;
    // Assess
    expect(definition.States.EachQuery.ItemSelector['end.$']).toBe(
      "States.Format('\\'{}\\'', $$.Execution.StartTime)",
    );
    expect(definition.States.EachQuery.ItemSelector.minutes).toBe('30');
    expect(steps.Results.Resource).toBe('arn:aws:states:::athena:getQueryResults');
    expect(steps.AnyRows.Choices).toStrictEqual([
      { Variable: '$.results.rows[1]', IsPresent: true, Next: 'Publish' },
    ]);
    expect(steps.Publish.Resource).toBe('arn:aws:states:::sns:publish');
    expect(steps.Publish.Parameters['Message.$']).toContain('States.JsonToString($.results.rows)');
  });
});

describe('template.yaml: fleet-wide detections', () => {
  const ids = Object.keys(template.Resources).filter((id) => id.startsWith('FleetDetection'));

  it('is off by default, and every one of its resources is under its condition', () => {
    expect(template.Parameters.EnableFleetDetections?.Default).toBe('false');
    expect(ids.sort()).toStrictEqual([
      'FleetDetectionRole',
      'FleetDetectionSchedule',
      'FleetDetectionSchedulerRole',
      'FleetDetectionStateMachine',
    ]);
    for (const id of ids) expect(template.Resources[id]?.Condition, id).toBe('FleetDetections');
  });

  it('starts the state machine every 15 minutes by default, and its window is longer than its rate', () => {
    // Prepare
    const schedule = template.Resources.FleetDetectionSchedule?.Properties;
    // Assess
    expect(schedule.ScheduleExpression).toStrictEqual({
      'Fn::Sub': 'rate(${FleetDetectionRateMinutes} minutes)',
    });
    expect(template.Parameters.FleetDetectionRateMinutes?.Default).toBe(15);
    expect(template.Parameters.FleetDetectionWindowMinutes?.Default as number).toBeGreaterThan(15);
    expect(schedule.Target.Arn).toStrictEqual({ Ref: 'FleetDetectionStateMachine' });
    expect(schedule.Target.RoleArn).toStrictEqual({ 'Fn::GetAtt': ['FleetDetectionSchedulerRole', 'Arn'] });
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
    resolveIf(resources[roleId]?.Properties.Policies, new Set(['FleetDetections'])) as {
      PolicyDocument: { Statement: Statement[] };
    }[]
  ).flatMap((policy) => policy.PolicyDocument.Statement);

describe.skipIf(!samTranslatorAvailable)(
  'template.yaml as SAM deploys it: fleet-detection permissions',
  () => {
    const expanded = samTranslatorAvailable ? expandSam(template) : template;
    const resources = expanded.Resources;
    const statements = statementsOf(resources, 'FleetDetectionRole');
    const byPrefix = (prefix: string) =>
      statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith(prefix)));

    it('runs Athena in the stack workgroup only', () => {
      expect(byPrefix('athena:')).toStrictEqual([
        expect.objectContaining({
          Resource: {
            'Fn::Sub':
              'arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/${AthenaWorkGroup}',
          },
        }),
      ]);
    });

    it('reads only the table data and writes only the query results', () => {
      expect(
        byPrefix('s3:').map(({ Action, Resource, Condition }) => ({ Action, Resource, Condition })),
      ).toStrictEqual([
        {
          Action: ['s3:ListBucket', 's3:GetBucketLocation'],
          Resource: { 'Fn::GetAtt': ['FlowLogBucket', 'Arn'] },
          Condition: { StringLike: { 's3:prefix': ['flowlogs/*', 'athena-results/*'] } },
        },
        {
          Action: ['s3:GetObject'],
          Resource: { 'Fn::Sub': '${FlowLogBucket.Arn}/flowlogs/*' },
          Condition: undefined,
        },
        {
          Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          Resource: { 'Fn::Sub': '${FlowLogBucket.Arn}/athena-results/*' },
          Condition: undefined,
        },
      ]);
    });

    it('publishes to the critical topic only, and grants nothing on every resource but what has no resource', () => {
      expect(byPrefix('sns:')).toStrictEqual([
        expect.objectContaining({ Resource: { Ref: 'CriticalTopic' } }),
      ]);
      expect(
        statements.filter((statement) => JSON.stringify(statement.Resource).includes('"*"')),
      ).toStrictEqual([]);
    });

    it('lets the schedule start this state machine and nothing else', () => {
      expect(statementsOf(resources, 'FleetDetectionSchedulerRole')).toStrictEqual([
        {
          Sid: 'StartFleetDetections',
          Effect: 'Allow',
          Action: ['states:StartExecution'],
          Resource: { Ref: 'FleetDetectionStateMachine' },
        },
      ]);
      expect(resources.FleetDetectionStateMachine?.Properties.RoleArn).toStrictEqual({
        'Fn::GetAtt': ['FleetDetectionRole', 'Arn'],
      });
    });
  },
);
