import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { RUNNING_COMPILED } from '@orderbook/server-kit';
import type { Outcome } from './clients';
import type { ClosedLoop } from './closed-loop';
import { workerIndices, type FromThread, type PhaseCommand, type ThreadSetup, type ToThread } from './generator-thread';
import type { OpenLoop } from './open-loop';
import { OPERATION_KINDS, type OperationKind } from './workload';

/** Where the answers of all threads go: the phase's tally, and the total in flight for the progress line. */
export interface AnswerSink {
  record(kind: OperationKind, outcome: Outcome, micros: number): void;
  setInFlight(count: number): void;
}

/** How long a thread may take to close its channels before it is terminated anyway. */
const CLOSE_TIMEOUT_MS = 5_000;

// Threads run what the main thread runs: the compiled generator-thread.js, or the TypeScript source
// with tsx registered inside each thread, whatever way (node --import tsx, mocha's tsx/cjs) it started.
const BOOT = RUNNING_COMPILED
  ? `require(${JSON.stringify(join(__dirname, 'generator-thread.js'))});`
  : `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(join(__dirname, 'generator-thread.ts'))});`;

/** One thread's part of a phase: its workers' share of the concurrency, its share of the rate and bounds. */
function shareOf(command: PhaseCommand, threadIndex: number, threads: number): PhaseCommand | undefined {
  const split = (total: number): number => Math.ceil(total / threads);
  if (command.mode === 'closed-loop') {
    const concurrency = workerIndices(threadIndex, threads, command.loop.concurrency).length;
    if (concurrency === 0) return undefined;
    const loop: ClosedLoop = { ...command.loop, concurrency, maxRequests: split(command.loop.maxRequests) };
    return { ...command, loop };
  }
  const loop: OpenLoop = {
    ...command.loop,
    ratePerSecond: command.loop.ratePerSecond / threads,
    maxRequests: split(command.loop.maxRequests),
    maxInFlight: split(command.loop.maxInFlight),
  };
  return { ...command, loop };
}

class GeneratorThread {
  private readonly worker: Worker;
  private pending: { resolve: (message: FromThread) => void; reject: (error: Error) => void } | undefined;
  private sink: AnswerSink | undefined;
  private failure: Error | undefined;
  inFlight = 0;

  constructor(setup: ThreadSetup, private readonly onInFlight: () => void) {
    this.worker = new Worker(BOOT, { eval: true, workerData: setup });
    this.worker.on('message', (message: FromThread) => this.receive(message));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`generator thread exited with code ${code}`)));
  }

  /** Runs the command; resolves with the number of open-loop requests left unsent. */
  async run(command: PhaseCommand, sink: AnswerSink): Promise<number> {
    this.sink = sink;
    const answer = await this.request({ type: 'phase', command });
    if (answer.type === 'failed') throw new Error(`generator thread: ${answer.message}`);
    return answer.type === 'done' ? answer.unsent : 0;
  }

  async close(): Promise<void> {
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_TIMEOUT_MS);
    await this.request({ type: 'close' }).catch(() => undefined);
    clearTimeout(timer);
    await this.worker.terminate();
  }

  private request(message: ToThread): Promise<FromThread> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(message);
    });
  }

  private receive(message: FromThread): void {
    if (message.type !== 'batch') {
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(message);
      return;
    }
    const details = new Map(message.details);
    for (let i = 0; i < message.codes.length; i++) {
      const kind = OPERATION_KINDS[message.kinds[i] ?? 0] ?? 'resting';
      const detail = details.get(i);
      this.sink?.record(kind, detail === undefined ? { code: message.codes[i] ?? 0 } : { code: message.codes[i] ?? 0, details: detail }, message.micros[i] ?? 0);
    }
    this.inFlight = message.inFlight;
    this.onInFlight();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }
}

/** The generator's threads: each phase runs on all of them at once, and their answers meet in one sink. */
export class GeneratorPool {
  private readonly threads: GeneratorThread[];
  private sink: AnswerSink | undefined;

  constructor(setup: Omit<ThreadSetup, 'threadIndex' | 'threads'>, threads: number) {
    this.threads = Array.from({ length: threads }, (_, threadIndex) => new GeneratorThread({ ...setup, threadIndex, threads }, () => this.reportInFlight()));
  }

  /** Runs one phase on every thread with work in it; resolves with the open-loop requests left unsent. */
  async run(command: PhaseCommand, sink: AnswerSink): Promise<{ unsent: number }> {
    this.sink = sink;
    const shares = this.threads.map((thread, index) => {
      const share = shareOf(command, index, this.threads.length);
      return share === undefined ? Promise.resolve(0) : thread.run(share, sink);
    });
    const unsent = await Promise.all(shares);
    return { unsent: unsent.reduce((sum, count) => sum + count, 0) };
  }

  close(): Promise<void> {
    return Promise.all(this.threads.map((thread) => thread.close())).then(() => undefined);
  }

  private reportInFlight(): void {
    this.sink?.setInFlight(this.threads.reduce((sum, thread) => sum + thread.inFlight, 0));
  }
}
