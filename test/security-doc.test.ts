import fs from 'node:fs';
import path from 'node:path';
import { loadSpec } from '../src/http/openapi';
import { rolesTable } from '../scripts/roles-table';

describe('docs/security.md', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../docs/security.md'), 'utf8');

  it('shows the role table the contract declares (regenerate with npx tsx scripts/roles-table.ts)', () => {
    const table = /<!-- roles-table:start -->\n([\s\S]*?)\n<!-- roles-table:end -->/.exec(doc)?.[1];
    expect(table).toBe(rolesTable(loadSpec()));
  });
});
