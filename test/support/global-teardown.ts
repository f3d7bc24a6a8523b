import fs from 'node:fs';
import { Client } from 'pg';
import { testDatabaseUrl } from '../../src/config';

export default async function globalTeardown(): Promise<void> {
  const template = process.env.TRIALDESK_TEST_TEMPLATE;
  if (!template) return;
  const serverUrl = testDatabaseUrl();
  if (serverUrl) {
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${template}`);
    await admin.end();
  } else {
    fs.rmSync(template, { force: true });
  }
}
