/**
 * Synthesizes the real CDK app (offline) with an inline gateway bundle, so no build is needed, and asserts the
 * resources and policies that matter for security and cost.
 */
import { App } from 'aws-cdk-lib';
import { Template, Match } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildApp } from '../../infra/app';
import { DEFAULT_GPU_INSTANCE_TYPES } from '../../infra/batch';
import { loadConfig } from '../../src/config';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown; Sid?: string };

// Actions IAM cannot scope to a resource; everything else must name one.
const UNSCOPABLE_ACTIONS = new Set(['batch:DescribeJobs', 'ecr:GetAuthorizationToken']);

let template: Template;

beforeAll(() => {
  const { stack } = buildApp({
    gatewayCode: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
    stackProps: { abortIncompleteMultipartUploadDays: 3, tmpExpirationDays: 1 },
  });
  template = Template.fromStack(stack);
});

function statements(): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function gatewayRoleStatements(handler = 'dist/src/gateway/lambda.handler'): Statement[] {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Handler === handler) as any;
  const roleRef = fn.Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) =>
    (p.Properties.Roles as any[]).some((r) => r.Ref === roleRef),
  );
  return policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const asArray = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

describe('app entry', () => {
  it('refuses to synthesize without a gateway bundle and says how to build one', () => {
    const app = new App({ context: { gatewayAsset: '/nonexistent/pretext-bundle' } });
    expect(() => buildApp({ app })).toThrow(/Gateway Lambda bundle not found at \/nonexistent\/pretext-bundle\. Build it .* -c gatewayAsset=<folder>/);
  });
});

describe('storage', () => {
  it('encrypts, blocks public access and has lifecycle rules for multipart uploads and tmp/', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 }, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'tmp/', ExpirationInDays: 1, Status: 'Enabled' }),
        ]),
      },
    });
  });

  it('denies non-TLS access in the bucket policy', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' } }),
        ]),
      },
    });
  });
});

describe('database', () => {
  it('is Aurora Serverless v2 PostgreSQL, encrypted, with generated credentials in Secrets Manager', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: Match.anyValue() },
      Port: 5432,
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless', Engine: 'aurora-postgresql' });
    // Two generated secrets, both attached to the cluster (host, port, dbname): the owner's and the runtime role's.
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 2);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: Match.stringLikeRegexp('"username":"pretext_gateway"') }),
    });
    // The cluster's credentials are resolved from the owner's secret at deploy time, not written into the template.
    const cluster = Object.values(template.findResources('AWS::RDS::DBCluster'))[0] as any;
    const secretId = Object.keys(template.findResources('AWS::SecretsManager::Secret')).find((id) => !id.startsWith('RuntimeDatabaseSecret'))!;
    for (const field of ['MasterUsername', 'MasterUserPassword']) {
      const json = JSON.stringify(cluster.Properties[field]);
      if (field === 'MasterUsername' && json === '"pretext"') continue; // CDK inlines the fixed user name
      expect(json).toMatch(/resolve:secretsmanager:/);
      expect(json).toContain(secretId);
    }
    expect(cluster.Properties.MasterUserPassword).toBeDefined();
  });

  it('lives in isolated subnets', () => {
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: Match.anyValue() });
    const group = Object.values(template.findResources('AWS::RDS::DBSubnetGroup'))[0] as any;
    const subnetIds = (group.Properties.SubnetIds as any[]).map((s) => s.Ref as string);
    expect(subnetIds.length).toBeGreaterThanOrEqual(2);
    for (const id of subnetIds) expect(id).toMatch(/isolated/i);
  });
});

describe('gateway', () => {
  it('runs on the Node.js 22.x Lambda runtime inside the VPC with the wiring environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'dist/src/gateway/lambda.handler',
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      Environment: {
        Variables: Match.objectLike({
          DISPATCHER: 'aws-batch',
          BATCH_JOB_QUEUE: Match.anyValue(),
          BATCH_JOB_DEFINITION: Match.anyValue(),
          S3_BUCKET: { Ref: Match.stringLikeRegexp('^DataBucket') },
          S3_REGION: { Ref: 'AWS::Region' },
          // The runtime role's secret for queries, the owner's for migrations and for creating that role.
          DATABASE_SECRET_ARN: { Ref: Match.stringLikeRegexp('^RuntimeDatabaseSecret') },
          DATABASE_MIGRATION_SECRET_ARN: Match.objectLike({ Ref: Match.not(Match.stringLikeRegexp('^RuntimeDatabaseSecret')) }),
          DATABASE_ENSURE_RUNTIME_ROLE: 'true',
          DATASET_PROCESSING: 'job',
          DATASET_JOB_QUEUE: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ProcessingJobQueue'), 'JobQueueArn'] },
          DATASET_JOB_DEFINITION: { Ref: Match.stringLikeRegexp('^ProcessingJobDefinition') },
        }),
      },
    });
  });

  it('is exposed through an API Gateway HTTP API with a Lambda proxy integration', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
    template.hasOutput('ApiUrl', {});
  });

  it('may read/write the bucket, read the DB secret and use Batch only on its queue and job definition', () => {
    const stmts = gatewayRoleStatements();
    const actions = stmts.flatMap((s) => asArray(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject', 's3:DeleteObject*', 'secretsmanager:GetSecretValue']));
    // Both database secrets (the runtime role's and the owner's), and only those.
    const secretReads = stmts.filter((s) => asArray(s.Action).includes('secretsmanager:GetSecretValue')).flatMap((s) => asArray(s.Resource));
    expect(secretReads).toHaveLength(2);
    expect(JSON.stringify(secretReads)).toMatch(/RuntimeDatabaseSecret/);
    const submit = stmts.find((s) => asArray(s.Action).includes('batch:SubmitJob'))!;
    expect(asArray(submit.Resource)).toHaveLength(2);
    expect(JSON.stringify(submit.Resource)).toMatch(/GpuJobQueue/);
    expect(JSON.stringify(submit.Resource)).toMatch(/TrainerJobDefinition/);
    const terminate = stmts.find((s) => asArray(s.Action).includes('batch:TerminateJob'))!;
    expect(JSON.stringify(terminate.Resource)).toMatch(/:job\/\*/);
    const tag = stmts.find((s) => asArray(s.Action).includes('batch:TagResource'))!;
    expect(tag.Condition).toEqual({ StringEquals: { 'batch:CreateAction': 'SubmitJob' } });
    expect(stmts.find((s) => asArray(s.Action).includes('batch:DescribeJobs'))!.Resource).toBe('*');
  });

  it('may reach Aurora on the Postgres port', () => {
    const [dbId] = Object.keys(template.findResources('AWS::RDS::DBCluster'));
    const port = { 'Fn::GetAtt': [dbId, 'Endpoint.Port'] }; // the cluster's port (5432, asserted above)
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp', FromPort: port, ToPort: port, Description: 'GatewayFunction to Aurora',
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayFunctionSecurityGroup'), 'GroupId'] },
    });
  });
});

describe('worker tick', () => {
  // No long-lived process in a serverless deployment: the worker's timers are an EventBridge schedule.
  const handler = 'dist/src/gateway/lambda-worker.handler';

  it('is a function with the same wiring, Lambda\'s longest timeout and one reserved execution', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: handler,
      Timeout: 900,
      ReservedConcurrentExecutions: 1,
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      Environment: { Variables: Match.objectLike({ DISPATCHER: 'aws-batch', DATASET_PROCESSING: 'job', DATABASE_SECRET_ARN: Match.anyValue() }) },
    });
  });

  it('is invoked every minute by an EventBridge rule allowed to call it', () => {
    const fnId = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, f]: [string, any]) => f.Properties.Handler === handler)![0];
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] } });
  });

  it('has the gateway\'s grants and no more (bucket, secret, Batch on its queue)', () => {
    const actions = (h: string) => new Set(gatewayRoleStatements(h).flatMap((s) => asArray(s.Action)));
    expect(actions(handler)).toContain('batch:SubmitJob');
    expect([...actions(handler)].sort()).toEqual([...actions('dist/src/gateway/lambda.handler')].sort());
  });
});

describe('batch', () => {
  it('has a spot and an on-demand managed EC2 compute environment with g5 GPU instances and the GPU AMI', () => {
    // The GPU environments (the processing queue's CPU environment is checked below).
    const envs = Object.entries(template.findResources('AWS::Batch::ComputeEnvironment')).filter(([id]) => id.startsWith('Gpu')).map(([, r]: [string, any]) => r.Properties);
    expect(envs).toHaveLength(2);
    const spot = envs.find((e) => e.ComputeResources.Type === 'SPOT');
    const onDemand = envs.find((e) => e.ComputeResources.Type === 'EC2');
    expect(spot).toBeDefined();
    expect(onDemand).toBeDefined();
    expect(spot.ComputeResources.AllocationStrategy).toBe('SPOT_PRICE_CAPACITY_OPTIMIZED');
    expect(onDemand.ComputeResources.AllocationStrategy).toBe('BEST_FIT_PROGRESSIVE');
    for (const e of [spot, onDemand]) {
      expect(e.Type).toBe('managed');
      expect([...e.ComputeResources.InstanceTypes].sort()).toEqual([...DEFAULT_GPU_INSTANCE_TYPES].sort());
      expect(e.ComputeResources.InstanceTypes.every((t: string) => t.startsWith('g5.'))).toBe(true);
      expect(e.ComputeResources.MinvCpus).toBe(0);
      expect(e.ComputeResources.Ec2Configuration).toEqual([{ ImageType: 'ECS_AL2_NVIDIA' }]);
    }
  });

  it('orders spot first and on-demand second in one job queue', () => {
    const queue = Object.entries(template.findResources('AWS::Batch::JobQueue')).find(([id]) => id.startsWith('GpuJobQueue'))![1] as any;
    const order = queue.Properties.ComputeEnvironmentOrder as Array<{ Order: number; ComputeEnvironment: any }>;
    expect(order.map((o) => o.Order)).toEqual([1, 2]);
    const envs = template.findResources('AWS::Batch::ComputeEnvironment');
    const typeOf = (ref: any) => (envs[ref['Fn::GetAtt']?.[0] ?? ref.Ref] as any).Properties.ComputeResources.Type;
    expect(order.map((o) => typeOf(o.ComputeEnvironment))).toEqual(['SPOT', 'EC2']);
  });

  it('defines the trainer job with a GPU resource requirement, the trainer command and no Batch retries', () => {
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      Type: 'container',
      RetryStrategy: { Attempts: 1 },
      ContainerProperties: Match.objectLike({
        Command: ['node', 'dist/src/training/main.js'],
        JobRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TrainerJobRole'), 'Arn'] },
      }),
    });
    const def = Object.values(template.findResources('AWS::Batch::JobDefinition'))[0] as any;
    expect(def.Properties.ContainerProperties.ResourceRequirements).toEqual(
      expect.arrayContaining([{ Type: 'GPU', Value: '1' }, { Type: 'VCPU', Value: '4' }, { Type: 'MEMORY', Value: '14336' }]),
    );
  });

  it('gives the trainer job role no permissions at all', () => {
    const roles = template.findResources('AWS::IAM::Role');
    const [jobRoleId] = Object.entries(roles).find(([id]) => id.startsWith('TrainerJobRole'))!;
    const attached = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) =>
      (p.Properties.Roles as any[]).some((r) => r.Ref === jobRoleId),
    );
    expect(attached).toEqual([]);
    expect((roles[jobRoleId] as any).Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('registries', () => {
  it('has ECR repositories for the gateway and the GPU trainer with scanning and immutable tags', () => {
    template.resourceCountIs('AWS::ECR::Repository', 2);
    for (const name of ['pretext-gateway', 'pretext-trainer-gpu']) {
      template.hasResourceProperties('AWS::ECR::Repository', {
        RepositoryName: name,
        ImageScanningConfiguration: { ScanOnPush: true },
        ImageTagMutability: 'IMMUTABLE',
      });
    }
  });
});

describe('network', () => {
  it('has private subnets with NAT egress and an S3 gateway endpoint', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3']) ]) }) });
  });
});

describe('IAM', () => {
  it('never grants Action "*" or service:* wildcards', () => {
    const all = statements();
    expect(all.length).toBeGreaterThan(5);
    for (const s of all.filter((x) => x.Effect === 'Allow')) {
      for (const a of asArray(s.Action)) {
        expect(a).not.toBe('*');
        expect(a).not.toMatch(/^[a-z0-9-]+:\*$/);
      }
    }
  });

  it('uses Resource "*" only for actions IAM cannot scope', () => {
    for (const s of statements().filter((x) => x.Effect === 'Allow')) {
      if (!asArray(s.Resource as unknown).includes('*')) continue;
      for (const a of asArray(s.Action)) expect(UNSCOPABLE_ACTIONS.has(a) ? a : `${a} on Resource "*"`).toBe(a);
    }
  });
});

describe('backend function environments', () => {
  // What the deployed functions would read at a cold start: each function's synthesized environment, with every
  // CloudFormation reference (Ref / GetAtt / Join) replaced by a plausible literal, through the real loadConfig.
  // The stack once set AWS_BATCH_JOB_QUEUE while the config reads BATCH_JOB_QUEUE: this test fails on such a drift.
  const literal = (name: string, v: unknown): string => {
    if (typeof v === 'string') return v;
    if (/URL$/.test(name)) return 'https://abc123.execute-api.us-east-1.amazonaws.com';
    if (/ARN$|QUEUE$|DEFINITION$/.test(name)) return `arn:aws:batch:us-east-1:123456789012:${name.toLowerCase()}/x`;
    return `resolved-${name.toLowerCase()}`;
  };
  it.each([
    ['gateway', 'dist/src/gateway/lambda.handler'],
    ['worker tick', 'dist/src/gateway/lambda-worker.handler'],
  ])('the %s function configuration loads', (_name, handler) => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: handler } })) as any[];
    expect(fns).toHaveLength(1);
    const vars = fns[0].Properties.Environment.Variables as Record<string, unknown>;
    const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, literal(k, v)]));
    // Set by the Lambda runtime; the database URLs come from the secrets at cold start (src/gateway/lambda-cold-start.ts).
    const config = loadConfig({ ...env, AWS_LAMBDA_FUNCTION_NAME: 'fn', DATABASE_URL: 'postgresql://rt:p@db:5432/pretext', DATABASE_MIGRATION_URL: 'postgresql://owner:p@db:5432/pretext' });
    expect(config.jobs.dispatcher).toMatchObject({ kind: 'aws-batch', jobQueue: expect.stringContaining('arn:'), jobDefinition: expect.stringContaining('arn:') });
    expect(config.storage.kind).toBe('s3');
    expect(config.datasets.processing).toBe('job');
    expect(config.datasets.job.dispatcher).toMatchObject({ kind: 'aws-batch', jobQueue: expect.stringContaining('arn:'), jobDefinition: expect.stringContaining('arn:') });
  });

  it('only the worker tick, which dispatches, carries the public URL trainers call', () => {
    const tick = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'dist/src/gateway/lambda-worker.handler' } }))[0] as any;
    const gw = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'dist/src/gateway/lambda.handler' } }))[0] as any;
    expect(tick.Properties.Environment.Variables.PRETEXT_PUBLIC_URL).toBeDefined();
    expect(tick.Properties.Environment.Variables.PRETEXT_WORKER_TICK).toBe('true');
    expect(gw.Properties.Environment.Variables.PRETEXT_PUBLIC_URL).toBeUndefined();
    // A request Lambda without it is fine; a worker tick without it is refused.
    const base = { DISPATCHER: 'aws-batch', BATCH_JOB_QUEUE: 'q', BATCH_JOB_DEFINITION: 'd', AWS_LAMBDA_FUNCTION_NAME: 'fn' };
    expect(() => loadConfig(base)).not.toThrow();
    expect(() => loadConfig({ ...base, PRETEXT_WORKER_TICK: 'true' })).toThrow(/PRETEXT_PUBLIC_URL: required/);
  });
});

describe('dataset processing jobs', () => {
  const entry = (type: string, prefix: string) => Object.entries(template.findResources(type)).find(([id]) => id.startsWith(prefix))!;

  it('run on their own CPU spot queue, with the gateway image and the platform job entry', () => {
    const [, env] = entry('AWS::Batch::ComputeEnvironment', 'ProcessingSpotCompute') as [string, any];
    expect(env.Properties.ComputeResources).toMatchObject({ Type: 'SPOT', MinvCpus: 0, InstanceTypes: ['optimal'] });
    expect(env.Properties.ComputeResources.Ec2Configuration).toBeUndefined(); // no GPU AMI
    const [, def] = entry('AWS::Batch::JobDefinition', 'ProcessingJobDefinition') as [string, any];
    const c = def.Properties.ContainerProperties;
    expect(c.Command).toEqual(['node', 'dist/src/jobs/platform-main.js']);
    expect(JSON.stringify(c.Image)).toMatch(/GatewayRepository/);
    expect(def.Properties.RetryStrategy).toEqual({ Attempts: 1 });
    expect(c.JobRoleArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ProcessingJobRole/), 'Arn'] });
  });

  it('hold a role that reaches only the bucket (read tenants/*, write dataset output and space pieces), and the trainer role stays empty', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const [roleId] = entry('AWS::IAM::Role', 'ProcessingJobRole');
    const attached = policies.filter((p) => (p.Properties.Roles as any[]).some((r) => r.Ref === roleId));
    const statements = attached.flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
    expect(statements.length).toBeGreaterThan(0);
    for (const st of statements) {
      expect((Array.isArray(st.Action) ? st.Action : [st.Action]).every((a: string) => a.startsWith('s3:'))).toBe(true);
      const resources = JSON.stringify(st.Resource);
      expect(resources).toMatch(/DataBucket/);
      if ((Array.isArray(st.Action) ? st.Action : [st.Action]).some((a: string) => /Put|Delete/.test(a))) expect(resources).toMatch(/tenants\/\*\/(datasets|spaces)\/\*/);
    }
    const [trainerRoleId] = entry('AWS::IAM::Role', 'TrainerJobRole');
    expect(policies.filter((p) => (p.Properties.Roles as any[]).some((r) => r.Ref === trainerRoleId))).toEqual([]);
  });

  it('are submitted by the backend functions only to that queue and definition', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const submits = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as any[]).filter((st) => st.Sid === 'SubmitProcessingJobs');
    expect(submits.length).toBe(2); // the gateway and the worker tick
    for (const st of submits) expect(JSON.stringify(st.Resource)).toMatch(/ProcessingJobQueue.*ProcessingJobDefinition/);
  });
});
