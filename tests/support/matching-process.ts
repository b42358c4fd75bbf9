import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(__dirname, '..', '..');

/** One JSON log line of the service (pino). */
export interface LogEntry {
  readonly level?: number;
  readonly msg?: string;
  readonly address?: string;
  readonly [key: string]: unknown;
}

export interface MatchingProcess {
  readonly child: ChildProcess;
  /** Every log line so far (LOG_LEVEL must be info or lower for the start to be seen). */
  readonly log: LogEntry[];
  /** Resolves with the exit code (or the signal's name) when the process has exited. */
  readonly exited: Promise<number | string>;
}

export interface StartOptions {
  /** Put before `node` (e.g. ['unshare', '--pid', '--fork', '--']). */
  readonly wrapper?: readonly string[];
  /** Extra node flags (e.g. --max-old-space-size=256). */
  readonly nodeFlags?: readonly string[];
}

/** Spawns `node --import tsx services/matching/src/main.ts` with env on top of this process's. */
export function spawnMatching(env: NodeJS.ProcessEnv, options: StartOptions = {}): MatchingProcess {
  const argv = [...(options.wrapper ?? []), process.execPath, ...(options.nodeFlags ?? []), '--import', 'tsx', join('services', 'matching', 'src', 'main.ts')];
  const [command = process.execPath, ...args] = argv;
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: LogEntry[] = [];
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  // Reading every line also keeps the pipes from filling up and blocking the child.
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (!line.startsWith('{')) {
        log.push({ msg: line });
        return;
      }
      try {
        log.push(JSON.parse(line) as LogEntry);
      } catch {
        log.push({ msg: line });
      }
    });
  }
  return { child, log, exited };
}

/** Resolves with the address once the process logs that it serves; rejects, with its log, if it exits first. */
export function serving(service: MatchingProcess, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`matching not serving after ${timeoutMs} ms:\n${describeLog(service)}`)), timeoutMs);
    const poll = setInterval(() => {
      const entry = service.log.find((e) => e.msg === 'matching service serving' && e.address !== undefined);
      if (entry?.address !== undefined) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(entry.address);
      }
    }, 20);
    void service.exited.then((code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`the matching process exited (${code}) before serving:\n${describeLog(service)}`));
    });
  });
}

export function describeLog(service: MatchingProcess): string {
  return service.log.map((e) => JSON.stringify(e)).join('\n').slice(-4000);
}

export interface ServingMatchingProcess extends MatchingProcess {
  readonly address: string;
}

/** Starts the service and waits until it serves. */
export async function startMatchingProcess(env: NodeJS.ProcessEnv, options: StartOptions = {}): Promise<ServingMatchingProcess> {
  const service = spawnMatching(env, options);
  return { ...service, address: await serving(service) };
}

/** The resident memory of a process, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) / 1024;
}
