import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { entryPointArgs, RUNNING_COMPILED } from '@orderbook/server-kit';
import { readProcessStats, type ProcessStats } from './proc-stats';

/** A server started as a child process, so that its memory and CPU are its own and measurable. */
export interface ChildServer {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  stats(): ProcessStats;
  /** Milliseconds its garbage collections paused it so far (gc-reporter.ts; 0 before the first report). */
  gcPauseMs(): number;
  /** KiB of heap plus off-heap (Buffer) memory in use right after its last full collection (gc-reporter.ts; undefined before one). */
  heapAfterGcKiB(): number | undefined;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL if it has not exited within STOP_GRACE_MS. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 15_000;
const GC_REPORTER = join(__dirname, RUNNING_COMPILED ? 'gc-reporter.js' : 'gc-reporter.ts');
const LOG_TAIL_CHARS = 4000;
const running = new Set<ChildProcess>();

// If the generator dies, its servers must not outlive it holding ports and CPU.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it; the child binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-LOG_TAIL_CHARS);
  } catch {
    return '(no log)';
  }
}

/**
 * Starts a package's entry point (e.g. services/auth, src/main), compiled or through tsx as this
 * process runs, with extra environment variables, output appended to logPath. With
 * BENCH_CPU_PROF_DIR set, each server writes a V8 CPU profile there when it stops.
 */
export function spawnNode(name: string, packageDirectory: string, entry: string, env: Readonly<Record<string, string>>, logPath: string): ChildServer {
  const script = entryPointArgs(packageDirectory, entry);
  const log = openSync(logPath, 'a');
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const profile = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`];
  const gcFile = `${logPath}.gc.json`;
  const entryFile = script[script.length - 1] ?? '';
  const loader = script.slice(0, -1);
  const child = spawn(process.execPath, [...profile, ...loader, '--import', GC_REPORTER, entryFile], {
    env: { ...process.env, ...env, BENCH_GC_FILE: gcFile },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${script.join(' ')}`);
  const pid = child.pid;
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  return {
    name,
    pid,
    logPath,
    stats: () => readProcessStats(pid),
    gcPauseMs: () => readGcReport(gcFile)?.pauseMs ?? 0,
    heapAfterGcKiB: () => {
      const bytes = readGcReport(gcFile)?.heapAfterMajorGcBytes;
      return bytes === undefined ? undefined : bytes / 1024;
    },
    isRunning: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** What gc-reporter.ts last wrote; undefined before its first report. */
function readGcReport(file: string): { readonly pauseMs: number; readonly heapAfterMajorGcBytes?: number } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { pauseMs: number; heapAfterMajorGcBytes?: number };
  } catch {
    return undefined;
  }
}

/**
 * Polls `probe` until it resolves true, at most every pollMs and for at most timeoutMs; fails at
 * once, with the end of its log, if the child has exited meanwhile.
 */
export async function waitUntilReady(server: ChildServer, probe: () => Promise<boolean>, timeoutMs: number, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!server.isRunning()) throw new Error(`${server.name} exited during start-up; end of ${server.logPath}:\n${logTail(server.logPath)}`);
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`${server.name} not ready after ${timeoutMs} ms; end of ${server.logPath}:\n${logTail(server.logPath)}`);
}
