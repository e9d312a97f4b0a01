import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

export interface DatabaseProps {
  vpc: ec2.IVpc;
  /** Aurora capacity units (1 ACU ≈ 2 GiB). 0.5 is the Serverless v2 floor; scale-to-zero would add cold starts. */
  minCapacity?: number;
  maxCapacity?: number;
  databaseName?: string;
  /** RETAIN/SNAPSHOT in production; DESTROY only for throwaway stacks. */
  removalPolicy?: RemovalPolicy;
}

export interface Database {
  cluster: rds.DatabaseCluster;
  /** Generated credentials (username, password, host, port, dbname) in Secrets Manager; never in plain env. */
  secret: secretsmanager.ISecret;
  /**
   * The runtime login role's credentials (same JSON shape): the role every query of the functions runs as, which
   * owns nothing (README "Security"); `secret` (the cluster's owner) is used for migrations and to create this role.
   */
  runtimeSecret: secretsmanager.ISecret;
}

/** The runtime login role's name (src/db/runtime-role.ts creates it, a member of pretext_runtime). */
export const RUNTIME_ROLE_NAME = 'pretext_gateway';

/** Aurora Serverless v2 PostgreSQL in the isolated subnets, encrypted, credentials generated into Secrets Manager. */
export function createDatabase(scope: Construct, props: DatabaseProps): Database {
  const cluster = new rds.DatabaseCluster(scope, 'Database', {
    engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_13 }),
    credentials: rds.Credentials.fromGeneratedSecret('pretext'),
    defaultDatabaseName: props.databaseName ?? 'pretext',
    writer: rds.ClusterInstance.serverlessV2('writer'),
    serverlessV2MinCapacity: props.minCapacity ?? 0.5,
    serverlessV2MaxCapacity: props.maxCapacity ?? 8,
    vpc: props.vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    storageEncrypted: true,
    backup: { retention: Duration.days(7) },
    deletionProtection: (props.removalPolicy ?? RemovalPolicy.SNAPSHOT) !== RemovalPolicy.DESTROY,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.SNAPSHOT,
  });
  // Generated like the owner's and attached to the cluster (the secret gets host, port, dbname), so the functions read
  // both the same way. The password contains no characters that need quoting in a URL or in SQL.
  const runtimeSecret = new rds.DatabaseSecret(scope, 'RuntimeDatabaseSecret', {
    username: RUNTIME_ROLE_NAME,
    dbname: props.databaseName ?? 'pretext',
    excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
  }).attach(cluster);
  return { cluster, secret: cluster.secret!, runtimeSecret };
}
