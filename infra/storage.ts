import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

export interface StorageProps {
  /** Days before S3 aborts multipart uploads that were never completed (their parts cost money invisibly). */
  abortIncompleteMultipartUploadDays?: number;
  /** Days before objects under `tmp/` (staging uploads, scratch exports) expire. */
  tmpExpirationDays?: number;
  /** Browser origins allowed to PUT/GET with presigned URLs (the web app); none by default. */
  corsAllowedOrigins?: string[];
  removalPolicy?: RemovalPolicy;
}

export interface Storage {
  bucket: s3.Bucket;
}

/**
 * The one bucket: raw uploads, shards, checkpoints, ONNX models, embeddings (keys `tenants/<tenantId>/...`).
 * Encrypted at rest, all public access blocked, TLS enforced by bucket policy; tenants reach objects only
 * through presigned URLs the gateway issues.
 */
export function createStorage(scope: Construct, props: StorageProps = {}): Storage {
  const abortDays = props.abortIncompleteMultipartUploadDays ?? 7;
  const tmpDays = props.tmpExpirationDays ?? 2;
  if (!Number.isInteger(abortDays) || abortDays < 1) {
    throw new Error(`abortIncompleteMultipartUploadDays must be an integer >= 1, got ${abortDays}.`);
  }
  if (!Number.isInteger(tmpDays) || tmpDays < 1) throw new Error(`tmpExpirationDays must be an integer >= 1, got ${tmpDays}.`);
  const bucket = new s3.Bucket(scope, 'DataBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: false, // checkpoints are rewritten often; versioning would keep every superseded copy
    lifecycleRules: [
      { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(abortDays) },
      { id: 'expire-tmp', prefix: 'tmp/', expiration: Duration.days(tmpDays) },
    ],
    // Browsers upload datasets straight to S3 with presigned PUTs; only listed origins may.
    ...(props.corsAllowedOrigins?.length
      ? {
          cors: [
            {
              allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
              allowedOrigins: props.corsAllowedOrigins,
              allowedHeaders: ['*'],
              exposedHeaders: ['ETag'],
              maxAge: 3000,
            },
          ],
        }
      : {}),
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
  });
  return { bucket };
}
