// Which errors count as "the database is unavailable" (UNAVAILABLE, retryable) and which stay bugs (INTERNAL).
import { createPrismaClient } from '../../src/db/client';
import { isDatabaseUnavailable } from '../../src/gateway/database-outage';

test('connection failures are recognized through wrappers; query bugs and constraint errors are not', async () => {
  const db = createPrismaClient('postgresql://postgres@127.0.0.1:1/postgres', 1);
  try {
    const refused = await db.tenant.findFirst().then(() => null, (err: unknown) => err);
    expect(refused).not.toBeNull();
    expect(isDatabaseUnavailable(refused)).toBe(true);
    const raw = await db.$queryRawUnsafe('select 1').then(() => null, (err: unknown) => err);
    expect(isDatabaseUnavailable(raw)).toBe(true);
  } finally {
    await db.$disconnect();
  }
  expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isDatabaseUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
  expect(isDatabaseUnavailable(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
  expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
  expect(isDatabaseUnavailable(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'P1017' }) }))).toBe(true);
  expect(isDatabaseUnavailable({ originalError: { meta: { driverAdapterError: { cause: { kind: 'ConnectionClosed' } } } } })).toBe(true);

  expect(isDatabaseUnavailable(Object.assign(new Error('Unique constraint failed'), { code: 'P2002' }))).toBe(false);
  expect(isDatabaseUnavailable(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
  expect(isDatabaseUnavailable(new TypeError('Cannot read properties of undefined'))).toBe(false);
  expect(isDatabaseUnavailable(null)).toBe(false);
});
