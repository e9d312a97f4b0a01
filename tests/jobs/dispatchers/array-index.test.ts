/**
 * The array-job contract inside the container (arrayIndexFromEnv) and the request validation every dispatcher
 * shares. Pure functions: no processes, no network.
 */
import { arrayIndexFromEnv } from '../../../src/jobs/array-index';
import { validateRequest } from '../../../src/jobs/dispatchers/validate';
import { makeRequest } from './helpers/request';

describe('arrayIndexFromEnv', () => {
  it('is index 0 of 1 for a plain execution (nothing set)', () => {
    expect(arrayIndexFromEnv({})).toEqual({ index: 0, count: 1 });
  });

  it.each([
    ['PRETEXT_JOB_INDEX (local, ECS)', { PRETEXT_JOB_INDEX: '3', PRETEXT_JOB_COUNT: '8' }, { index: 3, count: 8 }],
    ['AWS_BATCH_JOB_ARRAY_INDEX (Batch array child)', { AWS_BATCH_JOB_ARRAY_INDEX: '7', PRETEXT_JOB_COUNT: '8' }, { index: 7, count: 8 }],
    ['JOB_COMPLETION_INDEX (Kubernetes Indexed Job)', { JOB_COMPLETION_INDEX: '0', PRETEXT_JOB_COUNT: '2' }, { index: 0, count: 2 }],
    ['PRETEXT_JOB_INDEX before the backend variables', { PRETEXT_JOB_INDEX: '1', AWS_BATCH_JOB_ARRAY_INDEX: '5', JOB_COMPLETION_INDEX: '6', PRETEXT_JOB_COUNT: '10' }, { index: 1, count: 10 }],
    ['the Batch index before the Kubernetes one', { AWS_BATCH_JOB_ARRAY_INDEX: '5', JOB_COMPLETION_INDEX: '6', PRETEXT_JOB_COUNT: '10' }, { index: 5, count: 10 }],
    ['only a count', { PRETEXT_JOB_COUNT: '4' }, { index: 0, count: 4 }],
  ])('reads %s', (_label, env, expected) => {
    expect(arrayIndexFromEnv(env)).toEqual(expected);
  });

  it('reads process.env by default', () => {
    const saved = { i: process.env.PRETEXT_JOB_INDEX, n: process.env.PRETEXT_JOB_COUNT };
    try {
      process.env.PRETEXT_JOB_INDEX = '2';
      process.env.PRETEXT_JOB_COUNT = '3';
      expect(arrayIndexFromEnv()).toEqual({ index: 2, count: 3 });
    } finally {
      for (const [k, v] of [['PRETEXT_JOB_INDEX', saved.i], ['PRETEXT_JOB_COUNT', saved.n]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it.each([
    [{ PRETEXT_JOB_INDEX: '1.5', PRETEXT_JOB_COUNT: '4' }, 'PRETEXT_JOB_INDEX must be a non-negative integer, got "1.5".'],
    [{ PRETEXT_JOB_INDEX: '-1', PRETEXT_JOB_COUNT: '4' }, 'PRETEXT_JOB_INDEX must be a non-negative integer, got "-1".'],
    [{ PRETEXT_JOB_INDEX: '', PRETEXT_JOB_COUNT: '4' }, 'PRETEXT_JOB_INDEX must be a non-negative integer, got "".'],
    [{ JOB_COMPLETION_INDEX: ' 1', PRETEXT_JOB_COUNT: '4' }, 'JOB_COMPLETION_INDEX must be a non-negative integer, got " 1".'],
    [{ AWS_BATCH_JOB_ARRAY_INDEX: 'abc', PRETEXT_JOB_COUNT: '4' }, 'AWS_BATCH_JOB_ARRAY_INDEX must be a non-negative integer, got "abc".'],
    [{ PRETEXT_JOB_INDEX: '4', PRETEXT_JOB_COUNT: '4' }, 'PRETEXT_JOB_INDEX=4 is out of range for PRETEXT_JOB_COUNT=4: the index must be < the count.'],
    [{ AWS_BATCH_JOB_ARRAY_INDEX: '3' }, 'AWS_BATCH_JOB_ARRAY_INDEX=3 is out of range for PRETEXT_JOB_COUNT=(unset, so 1): the index must be < the count.'],
    [{ PRETEXT_JOB_COUNT: '0' }, 'PRETEXT_JOB_COUNT must be an integer >= 1, got "0".'],
    [{ PRETEXT_JOB_COUNT: 'eight' }, 'PRETEXT_JOB_COUNT must be a non-negative integer, got "eight".'],
    [{ PRETEXT_JOB_INDEX: '99999999999999999999', PRETEXT_JOB_COUNT: '4' }, 'PRETEXT_JOB_INDEX is too large: "99999999999999999999".'],
  ])('refuses %j', (env, message) => {
    expect(() => arrayIndexFromEnv(env)).toThrow(message);
  });
});

describe('validateRequest arraySize', () => {
  it.each([undefined, 1, 2, 10_000])('accepts %p', (arraySize) => {
    expect(() => validateRequest('local', makeRequest(arraySize === undefined ? {} : { arraySize }))).not.toThrow();
  });

  it.each([0, -1, 10_001, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects %p with a typed InvalidRequest error', (arraySize) => {
    let err: unknown;
    try {
      validateRequest('aws-batch', makeRequest({ arraySize }));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'DispatchError', dispatcher: 'aws-batch', code: 'InvalidRequest', retryable: false, message: `arraySize must be an integer from 1 to 10000, got ${arraySize}.` });
  });

  it('leaves PRETEXT_JOB_INDEX/PRETEXT_JOB_COUNT to the dispatcher in an array job', () => {
    expect(() => validateRequest('ecs', makeRequest({ arraySize: 3, env: { PRETEXT_JOB_COUNT: '3' } }))).toThrow('env "PRETEXT_JOB_COUNT" is set by the dispatcher for array jobs; leave it out.');
    expect(() => validateRequest('ecs', makeRequest({ arraySize: 1, env: { PRETEXT_JOB_INDEX: '0' } }))).not.toThrow();
  });
});
