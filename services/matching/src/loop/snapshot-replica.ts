import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Command, Engine, EngineConfig } from '@orderbook/engine';
import type { Logger } from '@orderbook/server-kit';
import { encodeCommands } from '../storage/command-codec';
import type { Rebuild } from '../storage/recovery';
import type { ReplicaReply, ReplicaRequest } from './snapshot-replica-protocol';

/**
 * Takes the engine's snapshots off the command loop: a worker thread holds a second engine (a
 * replica), fed every journaled command once it is durable, and encodes and writes the replica's
 * state when asked. The command loop never pauses for a snapshot, and the snapshot's bytes never
 * enter its heap (tens of MB there set off its garbage collector); the cost is a second copy of the
 * state in memory and a second application of every command, on the other core.
 *
 * Measured with 1M resting orders (README, Performance): a capture on the loop (copying the order
 * store's typed arrays into prepared memory) paused every client for 115-197 ms.
 *
 * A replica that fails (a thrown error, an exit) stops snapshots until the next start, and
 * nothing else: the journal holds every command, so a failure costs only replay time.
 */
/**
 * Commands go to the replica at most this often (or once MAX_PENDING_BYTES wait): each message
 * wakes its thread and costs tens of µs on the loop, which one message per event-loop turn paid
 * for every few commands. A take() sends what is pending first, so a snapshot is never behind.
 */
const POST_INTERVAL_MS = 50;
const MAX_PENDING_BYTES = 1 << 20;

export class SnapshotReplica {
  /** Encoded batches (encodeCommands) not yet sent, and their size. */
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly takes = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private failure: Error | undefined;
  private closed = false;
  private readonly started = performance.now();

  private constructor(
    private readonly worker: Worker,
    private readonly logger: Logger,
  ) {
    worker.on('message', (reply: ReplicaReply) => this.received(reply));
    worker.on('error', (err) => this.failed(err));
    worker.on('exit', (code) => this.failed(new Error(`the snapshot replica exited (code ${code})`)));
    // Only an awaited snapshot keeps the process alive, a replica left open must not. After the
    // listeners: adding a 'message' listener refs the worker again.
    worker.unref();
  }

  /**
   * A replica of `engine` as it is now (encoded on the calling thread, once: the replica restores
   * it while the loop goes on). Call before the engine applies another command.
   */
  static start(engine: Engine, config: EngineConfig, logger: Logger): SnapshotReplica {
    const replica = new SnapshotReplica(spawnWorker(), logger);
    const state = engine.snapshot();
    replica.worker.postMessage({ kind: 'seed', config, state } satisfies ReplicaRequest, [state.buffer as ArrayBuffer]);
    return replica;
  }

  /**
   * A replica of the engine that recovery rebuilt, from what it rebuilt it from (the snapshot's bytes
   * and the journal commands replayed): nothing is encoded on the calling thread. Encoding the
   * recovered engine instead held up the start by about a second of CPU with 1M resting orders.
   * Call before the engine applies another command.
   */
  static recovered(rebuild: Rebuild, config: EngineConfig, logger: Logger): SnapshotReplica {
    const replica = new SnapshotReplica(spawnWorker(), logger);
    // A copy the thread can own: the bytes recovery read may share their memory with other buffers.
    const state = rebuild.snapshotState?.slice();
    replica.worker.postMessage({ kind: 'seed', config, state } satisfies ReplicaRequest, state ? [state.buffer as ArrayBuffer] : []);
    for (const batch of rebuild.replayed) replica.appliedEncoded(batch);
    return replica;
  }

  /** Commands the engine applied and the journal holds (durable), in seq order, none skipped. */
  applied(commands: readonly Command[]): void {
    if (commands.length > 0) this.appliedEncoded(encodeCommands(commands));
  }

  /** The same as applied(), for commands already encoded as one batch (encodeCommands: what the journal wrote). */
  appliedEncoded(batch: Uint8Array): void {
    if (this.failure !== undefined || this.closed) return;
    this.pending.push(batch);
    this.pendingBytes += batch.byteLength;
    if (this.pendingBytes >= MAX_PENDING_BYTES) this.flush();
    else if (this.flushTimer === undefined) this.flushTimer = setTimeout(() => this.flush(), POST_INTERVAL_MS).unref();
  }

  /**
   * Writes the engine's snapshot at seq, which must be the last command given to applied(), into
   * dir (writeSnapshot: durable once this resolves). Rejects if the write or the replica failed.
   */
  take(seq: number, timestamp: number, dir: string): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the snapshot replica is closed'));
    this.flush();
    return new Promise((resolve, reject) => {
      this.takes.set(seq, { resolve, reject });
      this.worker.ref();
      this.post({ kind: 'take', seq, timestamp, dir });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.flushTimer);
    this.rejectTakes(new Error('the snapshot replica is closed'));
    await this.worker.terminate();
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0 || this.failure !== undefined || this.closed) return;
    // One copy of just these bytes, moved to the thread (a Buffer may be a slice of a larger pooled one).
    const bytes = new Uint8Array(this.pendingBytes);
    const ends: number[] = [];
    let at = 0;
    for (const batch of this.pending.splice(0)) {
      bytes.set(batch, at);
      at += batch.byteLength;
      ends.push(at);
    }
    this.pendingBytes = 0;
    this.worker.postMessage({ kind: 'commands', bytes, ends } satisfies ReplicaRequest, [bytes.buffer]);
  }

  private post(request: ReplicaRequest): void {
    this.worker.postMessage(request);
  }

  private received(reply: ReplicaReply): void {
    if (reply.kind === 'ready') {
      // Commands and takes sent meanwhile were queued: nothing waits for this but the log.
      this.logger.info({ restoreMs: Math.round(performance.now() - this.started) }, 'the snapshot replica restored its seed');
      return;
    }
    const take = this.takes.get(reply.seq);
    if (take === undefined) return;
    this.takes.delete(reply.seq);
    if (this.takes.size === 0) this.worker.unref();
    if (reply.kind === 'notWritten') {
      take.reject(reply.error);
      return;
    }
    this.logger.info({ seq: reply.seq, encodeMs: Math.round(reply.encodeMs), writeMs: Math.round(reply.writeMs) }, 'the snapshot replica wrote a snapshot');
    take.resolve();
  }

  private failed(err: Error): void {
    if (this.failure !== undefined || this.closed) return;
    this.failure = err;
    this.logger.error({ err }, 'the snapshot replica failed: no more snapshots until the next start (the journal holds every command; restarts replay more of it)');
    this.rejectTakes(err);
  }

  private rejectTakes(err: Error): void {
    for (const take of this.takes.values()) take.reject(err);
    this.takes.clear();
    this.worker.unref();
  }
}

/**
 * The worker runs the module next to this one: compiled JavaScript under plain node, or the
 * TypeScript source where this module itself runs from source (the tests, through tsx).
 */
function spawnWorker(): Worker {
  const extension = extname(__filename);
  const entry = join(__dirname, `snapshot-replica-worker${extension}`);
  if (extension === '.js') return new Worker(entry);
  const loader = require.resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(loader)}); require(${JSON.stringify(entry)});`, { eval: true });
}
