/** Where the test services are; override with TEST_PG_URL / TEST_REDIS_URL. */
export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789';
