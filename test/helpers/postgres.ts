import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * PostgreSQL for tests: TEST_DATABASE_URL (scripts/start-test-postgres.sh prints one;
 * .ci/run sets it). Each caller gets a schema of its own, so test files running in
 * parallel never see each other's rows.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

if (!TEST_DATABASE_URL && process.env.CI) {
  throw new Error('CI must run the PostgreSQL tests: set TEST_DATABASE_URL (see scripts/start-test-postgres.sh)');
}

/** describe() when PostgreSQL is available, describe.skip() otherwise (never in CI). */
export const describeWithPostgres = TEST_DATABASE_URL ? describe : describe.skip;

export async function freshPostgresUrl(): Promise<string> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** Every row of every table in the schema of `url`, as JSON text. */
export async function dumpPostgres(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()',
    );
    const dump: Record<string, unknown[]> = {};
    for (const { table_name: table } of tables.rows) dump[table] = (await client.query(`SELECT * FROM ${table}`)).rows;
    return JSON.stringify(dump);
  } finally {
    await client.end();
  }
}
