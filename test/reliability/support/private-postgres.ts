import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterTestProcessDies, shellQuote } from './drill-cleanup';
import { freePort } from './drill-ports';

/*
 * A PostgreSQL server of the drill's own: initdb into a fresh temporary directory, listening on
 * 127.0.0.1 only (and a socket in that directory), trust authentication, started and stopped with
 * pg_ctl. The fault drills crash it (`pg_ctl stop -m immediate`: no checkpoint, crash recovery at the
 * next start), so they must never touch the shared server on 5432.
 *
 * fsync and synchronous_commit stay on: durability of acknowledged writes is what the drills test.
 * Only memory and connection limits are lowered, which changes nothing about durability.
 *
 * initdb and postgres refuse to run as root, so as root every binary runs as the `postgres` system
 * user (runuser), which owns the directory.
 */

const SERVER_SETTINGS: Record<string, string> = {
  listen_addresses: "'127.0.0.1'",
  max_connections: '40',
  shared_buffers: '32MB',
  fsync: 'on',
  synchronous_commit: 'on',
  full_page_writes: 'on',
  huge_pages: 'off',
  logging_collector: 'off',
  log_min_messages: 'warning',
  log_line_prefix: "'%m [%p] '",
};

function binDir(): string {
  return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
}

const runningAsRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The command line that runs `binary` as the owner of the data directory. */
function asOwner(binary: string, args: string[]): [string, string[]] {
  return runningAsRoot() ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
}

function run(binary: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const [command, argv] = asOwner(binary, args);
  return new Promise((resolve, reject) => {
    // The tools run as the server's owner: from a working directory it cannot enter (a checkout in a 0700 temporary
    // directory) psql warns on stderr, which is read with the output, and a polled count would not parse.
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: os.tmpdir() });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else
        reject(
          new Error(`${path.basename(binary)} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output}`),
        );
    });
  });
}

export class PrivatePostgres {
  private destroyed = false;
  private forgetCleanup: () => void = () => undefined;

  private constructor(
    readonly rootDir: string,
    private listenPort: number,
    private readonly bin: string,
  ) {}

  get port(): number {
    return this.listenPort;
  }

  get dataDir(): string {
    return path.join(this.rootDir, 'data');
  }

  get logFile(): string {
    return path.join(this.rootDir, 'postgres.log');
  }

  /** Connection URL as the superuser `postgres` (trust: no password). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** initdb into a new temporary directory, then start; the caller must destroy() it. */
  static async create(name = 'drill'): Promise<PrivatePostgres> {
    const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), `trialdesk-${name}-pg-`));
    const server = new PrivatePostgres(rootDir, await freePort(), binDir());
    const stop = asOwner(path.join(server.bin, 'pg_ctl'), ['-D', server.dataDir, '-m', 'immediate', '-w', 'stop']);
    server.forgetCleanup = afterTestProcessDies(
      `${[stop[0], ...stop[1]].map(shellQuote).join(' ')} >/dev/null 2>&1; rm -rf ${shellQuote(rootDir)}`,
    );
    try {
      if (runningAsRoot()) execFileSync('chown', ['postgres:postgres', rootDir]);
      fs.chmodSync(rootDir, 0o700);
      // --no-sync only skips flushing initdb's own files; the server below runs with fsync on.
      await run(path.join(server.bin, 'initdb'), [
        '-D',
        server.dataDir,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--no-locale',
        '--no-sync',
      ]);
      const conf = path.join(server.dataDir, 'postgresql.conf');
      const settings = { ...SERVER_SETTINGS, unix_socket_directories: `'${rootDir}'` };
      fs.appendFileSync(
        conf,
        '\n# trialdesk fault drill\n' +
          Object.entries(settings)
            .map(([name, value]) => `${name} = ${value}`)
            .join('\n') +
          '\n',
      );
      // The port was free a moment ago; if something took it meanwhile, try another (the last `port` line wins).
      for (let attempt = 1; ; attempt++) {
        fs.appendFileSync(conf, `port = ${server.port}\n`);
        try {
          await server.start();
          return server;
        } catch (error) {
          if (attempt >= 3 || !/could not bind|already in use/i.test(server.logTail())) throw error;
          server.listenPort = await freePort();
        }
      }
    } catch (error) {
      server.destroySync();
      throw error;
    }
  }

  /** Starts the server and waits until it accepts connections (after crash recovery, if any). */
  async start(): Promise<void> {
    await run(path.join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '120', 'start']);
  }

  /** Kills the server as a crash would: no checkpoint, connections cut, recovery at the next start. */
  async stopImmediate(): Promise<void> {
    await run(path.join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
  }

  /** Runs SQL as the superuser with psql (no pool in the test process needed). */
  async psql(sql: string, database = 'postgres'): Promise<string> {
    return run(path.join(this.bin, 'psql'), [
      '-h',
      '127.0.0.1',
      '-p',
      String(this.port),
      '-U',
      'postgres',
      '-d',
      database,
      '-v',
      'ON_ERROR_STOP=1',
      '-XAtq',
      '-c',
      sql,
    ]);
  }

  async createDatabase(name: string): Promise<string> {
    await this.psql(`CREATE DATABASE "${name}"`);
    return this.url(name);
  }

  logTail(lines = 40): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    try {
      if (fs.existsSync(path.join(this.dataDir, 'postmaster.pid'))) await this.stopImmediate();
    } finally {
      this.destroyed = true;
      this.forgetCleanup();
      fs.rmSync(this.rootDir, { recursive: true, force: true });
    }
  }

  /** For failed set-ups: synchronous, never throws. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.forgetCleanup();
    try {
      if (fs.existsSync(path.join(this.dataDir, 'postmaster.pid'))) {
        const [command, argv] = asOwner(path.join(this.bin, 'pg_ctl'), [
          '-D',
          this.dataDir,
          '-m',
          'immediate',
          '-w',
          'stop',
        ]);
        execFileSync(command, argv, { stdio: 'ignore', timeout: 30_000 });
      }
    } catch {
      // The directory goes anyway; a server left without it stops at its next file access.
    }
    fs.rmSync(this.rootDir, { recursive: true, force: true });
  }
}
