// The object-store contract against the S3 adapter (the real @aws-sdk/client-s3, lib-storage and presigner)
// talking to s3rver, a real S3-protocol server, on a loopback port. s3rver does not check signatures, so
// nothing here tests authentication. s3rver implements neither ListParts, AbortMultipartUpload nor
// ListMultipartUploads, so the multipart resume/abort/ETag-verification cases are skipped here (they run against
// the local adapter, and need MinIO or AWS to run against this adapter).
import { S3ObjectStore } from '../../src/storage/s3';
import { startS3rver } from '../helpers/s3rver';
import { defineStoreContract } from './contract';

defineStoreContract('S3 protocol (s3rver)', async () => {
  const s3 = await startS3rver();
  const store = new S3ObjectStore({
    bucket: s3.bucket,
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    store,
    async close() {
      store.destroy();
      await s3.stop();
    },
  };
}, { multipartAdmin: false });
