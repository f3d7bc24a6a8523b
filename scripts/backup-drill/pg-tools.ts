import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';

/** The PostgreSQL client programs of the installation `pg_config` reports (the same major version as its libpq). */
export interface PgTools {
  binDir: string;
  /** `pg_dump --version`, e.g. "pg_dump (PostgreSQL) 15.20". */
  dumpVersion: string;
}

export function findPgTools(): PgTools {
  const binDir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  const dumpVersion = execFileSync(path.join(binDir, 'pg_dump'), ['--version'], { encoding: 'utf8' }).trim();
  return { binDir, dumpVersion };
}

export interface ToolRun {
  seconds: number;
  stdout: string;
  /** What the tool wrote to stderr on success (warnings); empty when it was quiet. */
  stderr: string;
}

/**
 * The URL without its password, which goes to the child in PGPASSWORD instead, so that it does not
 * appear in the process list.
 */
function libpqConnection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { dbname: parsed.toString(), env: password === '' ? process.env : { ...process.env, PGPASSWORD: password } };
}

/** Runs `name` from the bin directory against the database at `url` (passed as --dbname), timing it. */
export function runPgTool(
  tools: PgTools,
  name: 'pg_dump' | 'pg_restore',
  url: string,
  args: readonly string[],
): Promise<ToolRun> {
  const connection = libpqConnection(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      path.join(tools.binDir, name),
      [...args, `--dbname=${connection.dbname}`],
      { env: connection.env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const seconds = (performance.now() - started) / 1000;
        if (error) {
          reject(
            new Error(
              `${name} failed (${error.code ?? error.signal ?? 'error'}) after ${seconds.toFixed(1)} s:\n${stderr.trim() || error.message}`,
            ),
          );
          return;
        }
        resolve({ seconds, stdout, stderr: stderr.trim() });
      },
    );
  });
}

/**
 * The schema as `pg_dump --schema-only` prints it, without the lines that differ between any two
 * dumps: `\restrict`/`\unrestrict` carry a random key (pg_dump 15.14 and later) and comments.
 */
export async function schemaText(tools: PgTools, url: string): Promise<string> {
  const { stdout } = await runPgTool(tools, 'pg_dump', url, ['--schema-only', '--no-owner', '--no-privileges']);
  return stdout
    .split('\n')
    .filter((line) => !/^\\(un)?restrict /.test(line) && !line.startsWith('--') && line.trim() !== '')
    .join('\n');
}
