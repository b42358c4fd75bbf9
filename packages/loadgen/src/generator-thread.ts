import { parentPort, workerData } from 'node:worker_threads';
import { sessionEntry, unaryEntry, type EntryOptions, type OrderEntry, type Outcome, type Slot } from './clients';
import { driveClosedLoop, type ClosedLoop } from './closed-loop';
import type { Recorder, Workers } from './driving';
import { driveOpenLoop, type OpenLoop } from './open-loop';
import { Random } from './prng';
import { OPERATION_KINDS, OrderFlow, type OperationKind, type WorkloadOptions } from './workload';

/**
 * One generator thread: it owns a share of the workers (global indices threadIndex,
 * threadIndex + threads, ...), their order flows and their gRPC channels, runs the phases the
 * main thread sends it, and streams every answer back in batches. Several threads let the
 * generator use more than one core, so that its own gRPC client cost does not become the ceiling.
 */

export type EntryKind = 'unary' | 'session';

export type PhaseCommand =
  | { readonly entry: EntryKind; readonly mode: 'closed-loop'; readonly loop: ClosedLoop }
  | { readonly entry: EntryKind; readonly mode: 'open-loop'; readonly loop: OpenLoop };

export interface ThreadSetup {
  readonly threadIndex: number;
  readonly threads: number;
  /** Workers across all threads; worker w acts as user w % users and has the order flow of seed (seed, w). */
  readonly workers: number;
  readonly seed: number;
  readonly workload: WorkloadOptions;
  readonly entry: EntryOptions;
}

export type ToThread = { readonly type: 'phase'; readonly command: PhaseCommand } | { readonly type: 'close' };

/** Answers since the last batch: kinds (index in OPERATION_KINDS), status codes and latencies, index by index. */
export interface AnswerBatch {
  readonly type: 'batch';
  readonly kinds: Uint8Array;
  readonly codes: Uint8Array;
  readonly micros: Float64Array;
  /** Status details of the non-OK answers, by index in the batch. */
  readonly details: readonly (readonly [number, string])[];
  readonly inFlight: number;
}

export type FromThread =
  | AnswerBatch
  | { readonly type: 'done'; readonly unsent: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'closed' };

/** Answers are sent to the main thread this often during a phase (and at its end). */
const BATCH_MS = 100;

/** Global worker indices of one thread, in order: its local worker i is global threadIndex + i × threads. */
export function workerIndices(threadIndex: number, threads: number, workers: number): number[] {
  const indices: number[] = [];
  for (let global = threadIndex; global < workers; global += threads) indices.push(global);
  return indices;
}

class BatchingRecorder implements Recorder {
  inFlight = 0;
  private kinds: number[] = [];
  private codes: number[] = [];
  private micros: number[] = [];
  private details: [number, string][] = [];

  constructor(private readonly post: (message: FromThread) => void) {}

  record(kind: OperationKind, outcome: Outcome, micros: number): void {
    if (outcome.code !== 0) this.details.push([this.kinds.length, outcome.details ?? '']);
    this.kinds.push(OPERATION_KINDS.indexOf(kind));
    this.codes.push(outcome.code);
    this.micros.push(micros);
  }

  flush(): void {
    const batch: AnswerBatch = {
      type: 'batch',
      kinds: Uint8Array.from(this.kinds),
      codes: Uint8Array.from(this.codes),
      micros: Float64Array.from(this.micros),
      details: this.details,
      inFlight: this.inFlight,
    };
    this.kinds = [];
    this.codes = [];
    this.micros = [];
    this.details = [];
    this.post(batch);
  }
}

function serve(setup: ThreadSetup, post: (message: FromThread) => void): (message: ToThread) => void {
  const globals = workerIndices(setup.threadIndex, setup.threads, setup.workers);
  const flows = globals.map((global) => new OrderFlow(new Random(Random.derive(setup.seed, global)), setup.workload));
  // Users follow the global index (the same user for a worker whatever the thread count); channels are this thread's own.
  const slots: Slot[] = globals.map((global, local) => ({ user: global % setup.entry.tokens.length, channel: local % setup.entry.channels }));
  const entries = new Map<EntryKind, OrderEntry>();
  const entry = (kind: EntryKind): OrderEntry => {
    let opened = entries.get(kind);
    if (opened === undefined) {
      opened = kind === 'unary' ? unaryEntry(setup.entry) : sessionEntry(setup.entry);
      entries.set(kind, opened);
    }
    return opened;
  };

  const runPhase = async (command: PhaseCommand): Promise<void> => {
    const workers: Workers = { entry: entry(command.entry), flows, slots };
    const recorder = new BatchingRecorder(post);
    const timer = setInterval(() => recorder.flush(), BATCH_MS);
    try {
      const unsent =
        command.mode === 'closed-loop' ? (await driveClosedLoop(workers, recorder, command.loop), 0) : (await driveOpenLoop(workers, recorder, command.loop)).unsent;
      clearInterval(timer);
      recorder.flush();
      post({ type: 'done', unsent });
    } catch (err) {
      clearInterval(timer);
      recorder.flush();
      post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    }
  };

  return (message) => {
    if (message.type === 'phase') void runPhase(message.command);
    else {
      for (const opened of entries.values()) opened.close();
      post({ type: 'closed' });
    }
  };
}

if (parentPort !== null) {
  const port = parentPort;
  port.on('message', serve(workerData as ThreadSetup, (message) => port.postMessage(message)));
}
