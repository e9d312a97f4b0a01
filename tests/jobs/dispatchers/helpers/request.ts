import type { DispatchRequest } from '../../../../src/jobs/dispatchers';

/** A valid request; tests override what they look at. */
export function makeRequest(over: Partial<DispatchRequest> = {}): DispatchRequest {
  return {
    runId: 'run_01HZX4K9Q7',
    tenantId: 'tenant_acme',
    attempt: 1,
    command: ['node', 'dist/src/training/main.js'],
    env: { PRETEXT_JOB_TOKEN: 'jt_secret_123', PRETEXT_GATEWAY_URL: 'https://api.pretext.example/graphql' },
    resources: { gpus: 1, cpus: 4, memoryMb: 16384 },
    timeoutSeconds: 7200,
    ...over,
  };
}
