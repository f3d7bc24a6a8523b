import type { Knex } from 'knex';

/**
 * Splits a SQL script into statements at top-level semicolons, leaving alone semicolons inside
 * quotes, dollar-quoted bodies and comments. PGlite runs one statement per query, so migrations
 * run their scripts statement by statement.
 */
export function splitSqlStatements(script: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  while (i < script.length) {
    const ch = script[i]!;
    const rest = script.slice(i);
    if (rest.startsWith('--')) {
      const end = script.indexOf('\n', i);
      i = end === -1 ? script.length : end + 1;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const end = closingQuote(script, i, ch);
      current += script.slice(i, end);
      i = end;
      continue;
    }
    const dollarTag = /^\$[A-Za-z_]*\$/.exec(rest)?.[0];
    if (dollarTag) {
      const close = script.indexOf(dollarTag, i + dollarTag.length);
      if (close === -1) throw new Error(`unterminated dollar quote ${dollarTag}`);
      current += script.slice(i, close + dollarTag.length);
      i = close + dollarTag.length;
      continue;
    }
    if (ch === ';') {
      if (current.trim()) statements.push(current.trim());
      current = '';
      i++;
      continue;
    }
    current += ch;
    i++;
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}

function closingQuote(script: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < script.length) {
    if (script[i] === quote) {
      if (script[i + 1] === quote) {
        i += 2; // doubled quote is an escaped quote
        continue;
      }
      return i + 1;
    }
    i++;
  }
  throw new Error('unterminated quoted string');
}

export async function runSqlScript(executor: Knex | Knex.Transaction, script: string): Promise<void> {
  for (const statement of splitSqlStatements(script)) await executor.raw(statement);
}
