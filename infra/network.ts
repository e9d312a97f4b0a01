import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

export interface NetworkProps {
  /** Availability zones (Aurora and Batch both want at least two). */
  maxAzs?: number;
  /** NAT gateways: 1 keeps cost down; set it to maxAzs for zone-independent egress. */
  natGateways?: number;
}

export interface Network {
  vpc: ec2.Vpc;
}

/**
 * VPC with three tiers: public (NAT only), private with egress (gateway Lambda, Batch GPU instances: they pull
 * images from ECR and call the public API over NAT) and isolated (Aurora, no route out at all). An S3 gateway
 * endpoint keeps shard/checkpoint traffic off the NAT (free, and presigned URLs work through it).
 */
export function createNetwork(scope: Construct, props: NetworkProps = {}): Network {
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: props.maxAzs ?? 2,
    natGateways: props.natGateways ?? 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
    gatewayEndpoints: {
      S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
    },
  });
  return { vpc };
}
