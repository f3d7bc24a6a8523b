import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { afterTestProcessDies } from './drill-cleanup';
import { send } from './drill-http';
import { freePort } from './drill-ports';

/*
 * The real service as one child process: `node --import tsx src/server.ts` from the repository root.
 * tsx registers its loader in that same process (a worker thread, not a process), so SIGKILL to the
 * child kills the whole service. Its only child is tsx's esbuild compile service (`esbuild
 * --service`, not node), which exits by itself when its parent dies; `kill9` records the children it
 * saw (`helperCommands`) and any still alive 5 s after the kill (`orphans`). Its stdout and stderr
 * are kept (the log lines at LOG_LEVEL) as evidence for a report.
 */

const REPO_ROOT = path.resolve(__dirname, '../../..');
const STARTUP_TIMEOUT_MS = 90_000;
const MAX_LOG_LINES = 50_000;

export interface ServiceOptions {
  databaseUrl: string;
  adminApiKey: string;
  /** Default `warn`: the drills want the warnings and errors, not one line per request. */
  logLevel?: string;
  /** More environment (DATABASE_POOL_MAX, STATEMENT_TIMEOUT_MS, ...); values override the defaults. */
  env?: Record<string, string>;
  /** Keep one port across restarts (default: a free port picked once). */
  port?: number;
}

export interface ChildInfo {
  pid: number;
  command: string;
}

function isAlive(info: ChildInfo): boolean {
  try {
    process.kill(info.pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface ProcessExit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the drill killed or stopped it; false is an unexpected exit (a crash). */
  expected: boolean;
  at: Date;
}

export class ServiceProcess {
  private child: ChildProcess | null = null;
  private expectingExit = false;
  private exitWaiters: (() => void)[] = [];
  private readonly lines: string[] = [];
  readonly exits: ProcessExit[] = [];
  /** Start-up times (spawn to first 200 from /healthz), in ms. */
  readonly startupMs: number[] = [];
  /** Helper processes still running 5 s after the service was killed. */
  readonly orphans: ChildInfo[] = [];
  /** Commands of the service's child processes seen at each kill (a node among them would survive SIGKILL). */
  readonly helperCommands = new Set<string>();

  private constructor(
    readonly port: number,
    private readonly options: ServiceOptions,
  ) {}

  static async start(options: ServiceOptions): Promise<ServiceProcess> {
    const service = new ServiceProcess(options.port ?? (await freePort()), options);
    await service.start();
    return service;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Exits the drill did not cause. */
  unexpectedExits(): ProcessExit[] {
    return this.exits.filter((exit) => !exit.expected);
  }

  /** Captured output lines (stdout and stderr, in arrival order) from `from` on. */
  logLines(from = 0): string[] {
    return this.lines.slice(from);
  }

  /** A mark for logLines(). */
  logMark(): number {
    return this.lines.length;
  }

  /** Spawns the service and waits until /healthz answers 200. */
  async start(): Promise<void> {
    if (this.child) throw new Error('the service is already running');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      TMPDIR: process.env.TMPDIR ?? '/tmp',
      DATABASE_URL: this.options.databaseUrl,
      PORT: String(this.port),
      ADMIN_API_KEY: this.options.adminApiKey,
      LOG_LEVEL: this.options.logLevel ?? 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
      ...(this.options.env ?? {}),
    };
    const startedAt = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.expectingExit = false;
    const forgetCleanup = child.pid ? afterTestProcessDies(`kill -9 ${child.pid} 2>/dev/null`) : () => undefined;
    const capture = (stream: NodeJS.ReadableStream, name: string) => {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        pending += chunk;
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        for (const line of parts) this.pushLine(`${name}[${child.pid}] ${line}`);
      });
      stream.on('end', () => {
        if (pending) this.pushLine(`${name}[${child.pid}] ${pending}`);
      });
    };
    capture(child.stdout!, 'out');
    capture(child.stderr!, 'err');
    child.on('exit', (code, signal) => {
      forgetCleanup();
      this.exits.push({ pid: child.pid ?? -1, code, signal, expected: this.expectingExit, at: new Date() });
      if (this.child === child) this.child = null;
      const waiters = this.exitWaiters;
      this.exitWaiters = [];
      for (const wake of waiters) wake();
    });

    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (;;) {
      if (this.child !== child) {
        throw new Error(
          `the service exited during start-up: ${JSON.stringify(this.exits.at(-1))}\n${this.lines.slice(-30).join('\n')}`,
        );
      }
      const health = await send(this.baseUrl, { method: 'GET', path: '/healthz', key: null, timeoutMs: 2_000 });
      if (health.status === 200) break;
      if (Date.now() > deadline) {
        await this.kill9();
        throw new Error(
          `the service did not become healthy within ${STARTUP_TIMEOUT_MS} ms\n${this.lines.slice(-30).join('\n')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.startupMs.push(performance.now() - startedAt);
  }

  /**
   * Processes whose parent is the service. A node process among them would be a second service
   * process that SIGKILL leaves running; tsx's esbuild compile service (`esbuild --service`) is
   * expected, and must exit by itself once the service is killed (see `kill9`).
   */
  childProcesses(): ChildInfo[] {
    if (!this.child?.pid) return [];
    try {
      const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(this.child.pid)], { encoding: 'utf8' });
      return out
        .split('\n')
        .map((line) => line.trim().match(/^(\d+)\s+(.*)$/))
        .filter((match): match is RegExpMatchArray => match !== null)
        .map((match) => ({ pid: Number(match[1]), command: match[2]! }));
    } catch {
      return []; // ps exits 1 when nothing matches
    }
  }

  private waitForExit(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.exitWaiters.push(resolve);
    });
  }

  /**
   * SIGKILL: no shutdown handler runs, in-flight requests and open transactions die with it. Then
   * waits (up to 5 s) for the service's helper processes to exit; those still alive are recorded in
   * `orphans` (and killed, so they cannot pile up).
   */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const helpers = this.childProcesses();
    for (const helper of helpers) this.helperCommands.add(helper.command);
    this.expectingExit = true;
    child.kill('SIGKILL');
    await this.waitForExit(child);
    const deadline = Date.now() + 5_000;
    let alive = helpers.filter(isAlive);
    while (alive.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      alive = alive.filter(isAlive);
    }
    for (const orphan of alive) {
      this.orphans.push(orphan);
      try {
        process.kill(orphan.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM (clean shutdown), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.waitForExit(child);
    clearTimeout(timer);
  }

  private pushLine(line: string): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LOG_LINES) this.lines.splice(0, this.lines.length - MAX_LOG_LINES);
  }
}
