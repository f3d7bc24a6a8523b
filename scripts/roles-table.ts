/**
 * Prints the role table of docs/security.md from the contract's `x-roles`, scope and blinding
 * extensions: `npx tsx scripts/roles-table.ts`. test/security-doc.test.ts keeps the two equal.
 */
import { loadSpec, LoadedSpec } from '../src/http/openapi';

const ROLES = ['admin', 'coordinator', 'statistician', 'monitor'] as const;

export function rolesTable(spec: LoadedSpec): string {
  const lines = [
    '| Operation | Request | admin | coordinator | statistician | monitor | Notes |',
    '|---|---|:-:|:-:|:-:|:-:|---|',
  ];
  for (const op of spec.operations) {
    const isPublic = op.roles.includes('public');
    const cells = ROLES.map((role) => (isPublic || op.roles.includes(role as never) ? '✓' : ''));
    const notes = [
      isPublic ? 'public, no key' : '',
      op.requiresUnscopedKey ? 'unscoped key only' : '',
      op.requiresUnblindedKey ? 'not for blinded keys' : '',
    ]
      .filter(Boolean)
      .join('; ');
    lines.push(
      `| \`${op.operationId}\` | \`${op.method.toUpperCase()} ${op.path}\` | ${cells.join(' | ')} | ${notes} |`,
    );
  }
  return lines.join('\n');
}

if (require.main === module) process.stdout.write(`${rolesTable(loadSpec())}\n`);
