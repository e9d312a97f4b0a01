import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';

export interface Registries {
  gateway: ecr.Repository;
  trainer: ecr.Repository;
}

/** ECR repositories for the two images (infra/docker). Immutable tags: a job definition's tag always means one image. */
export function createRegistries(scope: Construct, props: { keepImages?: number } = {}): Registries {
  const make = (id: string, name: string) =>
    new ecr.Repository(scope, id, {
      repositoryName: name,
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      lifecycleRules: [
        { description: 'drop untagged layers', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(7) },
        { description: 'keep recent images', tagStatus: ecr.TagStatus.ANY, maxImageCount: props.keepImages ?? 30 },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  return { gateway: make('GatewayRepository', 'pretext-gateway'), trainer: make('TrainerRepository', 'pretext-trainer-gpu') };
}
