import type { Command, CommandResult, Engine, EngineQueries } from '@orderbook/engine';
import type { Logger } from '@orderbook/server-kit';
import type { DataDirLock } from '../storage/data-dir-lock';
import type { Journal } from '../storage/journal';
import { LogFencedError } from '../storage/jetstream-log';
import type { SnapshotStore } from '../storage/snapshot-store';
import { resultOf, type CommandInput, type CommandLoop, type CommandObserver, type ResultOf } from './command-loop-api';
import type { DiskSpace } from '../storage/disk-space';
import { CommandLoopFailedError, DiskSpaceLowError, OverloadedError, ShuttingDownError, type LoopFailure } from './errors';
import { DeadlineTimer } from './deadline-timer';
import { EventListeners, type EventListener } from './event-listeners';
import type { Sequencer } from './sequencer';
import type { SnapshotReplica } from './snapshot-replica';

/** What a command loop is built from (see openCommandLoop, which recovers them from a data dir). */
export interface CommandLoopParts {
  readonly engine: Engine;
  readonly journal: Journal;
  readonly snapshots: SnapshotStore;
  /** Takes the snapshots, from the state of the commands the loop tells it are durable. Closed with the loop. */
  readonly replica: SnapshotReplica;
  /** Positioned after the engine's last seq and the last journaled timestamp. */
  readonly sequencer: Sequencer;
  /** Released once the loop has closed. */
  readonly dataDirLock?: DataDirLock;
  /** Seq of the state the newest snapshot holds (0 if none); the next one is due snapshotEvery later. */
  readonly snapshotSeq: number;
  /** Timestamp of the last journaled command (0 if none). */
  readonly lastTimestamp: number;
  readonly maxQueueDepth: number;
  readonly snapshotEvery: number;
  /** When given, commands are refused (before they are applied) while free space is below its reserve. */
  readonly diskSpace?: DiskSpace;
  /** Where the journal lives, for messages. */
  readonly dataDir?: string;
  readonly logger: Logger;
  readonly observer?: CommandObserver;
  readonly onFatalError?: (error: CommandLoopFailedError) => void;
  /** When given, timers fire only while it answers true (a replicated leader: while it holds its lease). */
  readonly mayFireTimers?: () => boolean;
}

/** A snapshot to take: the state after command seq, whose timestamp it was. */
interface DueSnapshot {
  readonly seq: number;
  readonly timestamp: number;
}

interface Waiter {
  /** Answers the caller with the command's result. */
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly startedAt: number;
}

/** A command the engine applied (its seq advanced) that is waiting for its journal record. */
interface AppliedCommand {
  readonly command: Command;
  readonly result: CommandResult;
  /** Absent for a rejected command, whose caller was answered at once. */
  readonly waiter?: Waiter;
}


/**
 * The single consumer of all commands, on the main thread. submit() applies the command to the
 * engine at once, in call order (so there is no queue of unapplied commands: JavaScript runs one
 * call at a time), and parks the caller until the command's journal record is fsynced.
 *
 * Group commit: one append (write + fsync) is in flight at a time; commands applied meanwhile
 * wait in `unwritten` and become the next batch. Callers are answered and events delivered only
 * once their batch is durable, in seq order. Every durable batch also goes to the snapshot replica
 * (a second engine in a worker thread). A snapshot is due between batches: it is the state after
 * the batch about to be written; once that batch is durable the journal rolls to a new segment,
 * and the replica encodes its state at that seq while commands go on: the loop never pauses for it.
 *
 * Timers (GTD expiries, dead-man switches): the engine says when the next is due
 * (nextDeadline()); a DeadlineTimer wakes the loop then, and it sequences an `expire` command —
 * journaled like any other, so a replay fires the same timers at the same seqs. A command whose
 * timestamp reaches a deadline is preceded by that `expire` command, so no command sees an order
 * past its expiry; nothing is journaled while nothing is due. Recovered state that is overdue
 * (a restart, a failover) fires at once.
 */
export class JournaledCommandLoop implements CommandLoop {
  readonly queries: EngineQueries;
  private state: 'accepting' | 'closing' | 'failed' = 'accepting';
  private failure: CommandLoopFailedError | undefined;
  private unwritten: AppliedCommand[] = [];
  private waiting = 0;
  private flushing = false;
  private readonly flushWaiters: Array<() => void> = [];
  private snapshotSeq: number;
  private lastTimestamp: number;
  private snapshotWrite: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly listeners: EventListeners;
  private readonly timer: DeadlineTimer;

  constructor(private readonly parts: CommandLoopParts) {
    this.queries = parts.engine;
    this.listeners = new EventListeners(parts.logger);
    this.snapshotSeq = parts.snapshotSeq;
    this.lastTimestamp = parts.lastTimestamp;
    // On the sequencer's clock: the one that stamps the `expire` command decides whether it is due.
    this.timer = new DeadlineTimer(() => this.wake(), () => parts.sequencer.timestamp());
    this.timer.arm(parts.engine.nextDeadline());
  }

  submit<I extends CommandInput>(input: I): Promise<ResultOf<I['kind']>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.state === 'closing') return Promise.reject(new ShuttingDownError('the matching engine is shutting down'));
    const { diskSpace } = this.parts;
    if (diskSpace?.isLow()) {
      return Promise.reject(new DiskSpaceLowError(this.parts.dataDir ?? 'the data directory', diskSpace.freeBytes(), diskSpace.reserveBytes, diskSpace.retryDelayMs));
    }
    if (this.waiting >= this.parts.maxQueueDepth) {
      return Promise.reject(new OverloadedError(`${this.waiting} commands are already waiting; try again later`));
    }
    const startedAt = performance.now();
    const { engine, sequencer } = this.parts;
    const timestamp = sequencer.timestamp();
    if (engine.nextDeadline() <= timestamp && !this.fireTimers(timestamp)) return Promise.reject(this.failure);
    const cmd = sequencer.next(input, timestamp);
    let result: CommandResult;
    try {
      result = engine.apply(cmd);
    } catch (err) {
      return Promise.reject(this.fail(`the engine threw while applying seq ${cmd.seq}`, 'ENGINE_FAILED', err, []));
    }
    this.timer.arm(engine.nextDeadline());
    // The engine spends a seq on every command, accepted or rejected, and answers each kind with
    // its kind of value: anything else means the engine and the journal no longer agree.
    const typed = resultOf<I['kind']>(input.kind, result);
    if (engine.lastSeq() !== cmd.seq || typed === undefined) {
      const answer = result.ok ? `a ${result.value.kind} result` : 'a rejection';
      const reason = `the engine answered seq ${cmd.seq} (${cmd.kind}) out of contract: ${answer}, now at seq ${engine.lastSeq()}`;
      return Promise.reject(this.fail(reason, 'ENGINE_FAILED', undefined, []));
    }
    const answer: ResultOf<I['kind']> = typed;
    if (!typed.ok) {
      // Journaled all the same: the seq it spent must be in the journal for replay to line up.
      this.journal(cmd, result, undefined);
      this.parts.observer?.commandCompleted(cmd.kind, false, secondsSince(startedAt));
      return Promise.resolve(answer);
    }
    this.waiting += 1;
    return new Promise((resolve, reject) => this.journal(cmd, result, { resolve: () => resolve(answer), reject, startedAt }));
  }

  onEvents(listener: EventListener): () => void {
    return this.listeners.add(listener);
  }

  /** The timer's wake-up: fires what is due now, if anything, and arms the next wake-up. */
  private wake(): void {
    if (this.state !== 'accepting' || this.parts.mayFireTimers?.() === false) return;
    const { engine, sequencer, diskSpace } = this.parts;
    // Like a command, a timer waits while the journal's reserve is short.
    if (diskSpace?.isLow()) return this.timer.arm(sequencer.timestamp() + diskSpace.retryDelayMs);
    const timestamp = sequencer.timestamp();
    if (engine.nextDeadline() <= timestamp && !this.fireTimers(timestamp)) return;
    this.timer.arm(engine.nextDeadline());
  }

  /** Applies and journals an `expire` command at `timestamp`; false if the loop failed doing so. */
  private fireTimers(timestamp: number): boolean {
    const { engine } = this.parts;
    const cmd = this.parts.sequencer.next({ kind: 'expire' }, timestamp);
    let result: CommandResult;
    try {
      result = engine.apply(cmd);
    } catch (err) {
      this.fail(`the engine threw while applying seq ${cmd.seq} (expire)`, 'ENGINE_FAILED', err, []);
      return false;
    }
    if (engine.lastSeq() !== cmd.seq || !result.ok || result.value.kind !== 'expired') {
      this.fail(`the engine answered seq ${cmd.seq} (expire) out of contract, now at seq ${engine.lastSeq()}`, 'ENGINE_FAILED', undefined, []);
      return false;
    }
    this.journal(cmd, result, undefined);
    this.parts.observer?.commandCompleted('expire', true, 0);
    return true;
  }

  freeDiskBytes(): number {
    return this.parts.diskSpace?.freeBytes() ?? Infinity;
  }

  queueDepth(): number {
    return this.waiting;
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private journal(command: Command, result: CommandResult, waiter: Waiter | undefined): void {
    this.lastTimestamp = command.timestamp;
    this.unwritten.push(waiter ? { command, result, waiter } : { command, result });
    if (!this.flushing) {
      this.flushing = true;
      // A microtask, not a synchronous start: commands submitted in the same turn share the batch.
      queueMicrotask(() => void this.flush());
    }
  }

  /** Writes batches until nothing is unwritten. Never throws: failures go through fail(). */
  private async flush(): Promise<void> {
    while (this.unwritten.length > 0 && this.state !== 'failed') {
      const snapshot = this.snapshotIfDue();
      const batch = this.unwritten;
      this.unwritten = [];
      let encoded: Uint8Array;
      try {
        encoded = await this.parts.journal.append(batch.map((c) => c.command));
      } catch (err) {
        this.fail(`a journal write failed (${describe(err)})`, journalFailure(err), err, batch);
        break;
      }
      this.acknowledge(batch);
      this.parts.replica.appliedEncoded(encoded);
      if (snapshot) {
        try {
          await this.parts.journal.roll(snapshot.seq + 1);
        } catch (err) {
          this.fail(`starting a new journal segment failed (${describe(err)})`, journalFailure(err), err, []);
          break;
        }
        this.snapshotWrite = this.persistSnapshot(snapshot);
      }
    }
    this.flushing = false;
    for (const resolve of this.flushWaiters.splice(0)) resolve();
  }

  private acknowledge(batch: readonly AppliedCommand[]): void {
    for (const c of batch) {
      if (c.result.ok) this.listeners.emit(c.command.seq, c.result.events);
      if (c.waiter) {
        this.waiting -= 1;
        c.waiter.resolve();
        this.parts.observer?.commandCompleted(c.command.kind, c.result.ok, secondsSince(c.waiter.startedAt));
      }
    }
  }

  /** The snapshot due after the batch about to be written, if snapshotEvery commands went by since the last. */
  private snapshotIfDue(): DueSnapshot | undefined {
    const seq = this.parts.engine.lastSeq();
    // A snapshot would only eat into the reserve that keeps the journal writable; it can wait.
    if (seq - this.snapshotSeq < this.parts.snapshotEvery || this.snapshotWrite !== undefined || this.parts.diskSpace?.isLow() === true) return undefined;
    // Set now, so that a snapshot that fails is retried only snapshotEvery commands later.
    this.snapshotSeq = seq;
    return { seq, timestamp: this.lastTimestamp };
  }

  /** Saves the snapshot in the background of the loop. A failure costs only replay time. */
  private async persistSnapshot(snapshot: DueSnapshot): Promise<void> {
    const { logger, observer } = this.parts;
    observer?.snapshotStarted?.(snapshot.seq);
    const started = performance.now();
    let loopSeconds = 0;
    let ok = false;
    try {
      const written = this.parts.replica.take(snapshot.seq, snapshot.timestamp, this.parts.snapshots.dir);
      loopSeconds = secondsSince(started);
      await written;
      await this.parts.snapshots.saved(snapshot.seq);
      ok = true;
      logger.info({ seq: snapshot.seq, ms: Math.round(performance.now() - started) }, 'wrote snapshot');
    } catch (err) {
      logger.error({ err, seq: snapshot.seq }, 'writing a snapshot failed; the journal still holds every command');
    } finally {
      this.snapshotWrite = undefined;
      observer?.snapshotEnded?.(snapshot.seq, loopSeconds, secondsSince(started), ok);
    }
  }

  private async shutDown(): Promise<void> {
    if (this.state === 'accepting') this.state = 'closing';
    this.timer.stop();
    await this.flushed();
    await this.snapshotWrite;
    try {
      // After a failure memory is ahead of disk: a snapshot of it would make lost commands look durable.
      if (this.state !== 'failed' && this.parts.engine.lastSeq() > this.snapshotSeq && this.parts.diskSpace?.isLow() !== true) {
        const snapshot = { seq: this.parts.engine.lastSeq(), timestamp: this.lastTimestamp };
        this.snapshotSeq = snapshot.seq;
        await this.parts.journal.roll(snapshot.seq + 1);
        await this.persistSnapshot(snapshot);
      }
    } finally {
      await this.parts.replica.close();
      this.parts.diskSpace?.stop();
      await this.parts.journal.close();
      await this.parts.dataDirLock?.release();
    }
    this.parts.logger.info({ lastSeq: this.parts.engine.lastSeq() }, 'command loop closed');
  }

  private flushed(): Promise<void> {
    return this.flushing ? new Promise((resolve) => this.flushWaiters.push(resolve)) : Promise.resolve();
  }

  /** Stops the loop for good; fails every caller not yet answered. Returns the error they got. */
  private fail(reason: string, kind: LoopFailure, cause: unknown, batch: readonly AppliedCommand[]): CommandLoopFailedError {
    if (this.failure) return this.failure;
    this.state = 'failed';
    this.timer.stop();
    this.failure = new CommandLoopFailedError(
      `${reason}; the matching engine stopped accepting commands and must restart to recover from its journal`,
      kind,
      { cause },
    );
    this.parts.logger.fatal({ err: cause }, this.failure.message);
    for (const c of [...batch, ...this.unwritten]) {
      if (!c.waiter) continue;
      this.waiting -= 1;
      c.waiter.reject(this.failure);
      this.parts.observer?.commandCompleted(c.command.kind, false, secondsSince(c.waiter.startedAt));
    }
    this.unwritten = [];
    this.parts.onFatalError?.(this.failure);
    return this.failure;
  }
}

function journalFailure(err: unknown): LoopFailure {
  if (err instanceof LogFencedError) return 'JOURNAL_FENCED';
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC' ? 'DISK_FULL' : 'JOURNAL_WRITE_FAILED';
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function secondsSince(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}
