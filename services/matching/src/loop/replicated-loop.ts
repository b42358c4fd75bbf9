import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine, EngineLimits, EngineQueries } from '@orderbook/engine';
import type { Logger } from '@orderbook/server-kit';
import type { DataDirLock } from '../storage/data-dir-lock';
import type { DiskSpace } from '../storage/disk-space';
import type { JetStreamJournal } from '../storage/jetstream-journal';
import { JournalCorruptError } from '../storage/journal';
import type { LeaderLease } from '../storage/leader-lease';
import { retainingSnapshotStore } from '../storage/retaining-snapshot-store';
import type { SnapshotStore } from '../storage/snapshot-store';
import type { CommandInput, CommandLoop, CommandObserver, ResultOf } from './command-loop-api';
import { JournaledCommandLoop } from './command-loop';
import { applyConfiguredLimits } from './configured-limits';
import { EventListeners, type EventListener } from './event-listeners';
import { CommandLoopFailedError, NotLeaderError, ShuttingDownError } from './errors';
import { Sequencer } from './sequencer';
import type { SnapshotReplica } from './snapshot-replica';

export type Role = 'leader' | 'follower';

/** What the replication does, for metrics. */
export interface ReplicationObserver {
  role(role: Role): void;
  /** A follower applied the stream up to message streamSeq; the stream ended at lastStreamSeq when last asked. */
  applied(commandSeq: number, streamSeq: number, lastStreamSeq: number): void;
  promoted(): void;
  leaseRenewed(): void;
  leaseLost(): void;
}

export interface ReplicatedLoopParts {
  /** Recovered from the newest local snapshot and the stream, up to stream message streamSeq. */
  readonly engine: Engine;
  readonly streamSeq: number;
  readonly lastTimestamp: number;
  readonly snapshotSeq: number;
  readonly journal: JetStreamJournal;
  readonly snapshots: SnapshotStore;
  /** Takes this replica's snapshots, as a follower and then as the leader (see JournaledCommandLoop). */
  readonly replica: SnapshotReplica;
  readonly lease: LeaderLease;
  readonly dataDirLock: DataDirLock;
  readonly diskSpace: DiskSpace;
  readonly dataDir: string;
  readonly maxQueueDepth: number;
  readonly snapshotEvery: number;
  /** The limits of this node's configuration: put in force whenever it starts to lead (configured-limits.ts). */
  readonly configuredLimits: EngineLimits;
  /**
   * When above 0, the leader drops from the stream, after each snapshot it saved at seq S, the
   * messages holding only commands up to S - retainCommands (MATCHING_JOURNAL_RETAIN_COMMANDS).
   */
  readonly retainCommands: number;
  /** How often a follower looks for new stream messages. */
  readonly pollMs: number;
  /** How often a follower asks who holds the lease (and takes it when free). */
  readonly leaseCheckMs: number;
  readonly logger: Logger;
  readonly observer?: CommandObserver;
  readonly replication?: ReplicationObserver;
  readonly onFatalError?: (error: CommandLoopFailedError) => void;
}

/** Commands a follower applies between yields to the event loop (reads are served meanwhile). */
const APPLY_SLICE = 2_000;

/**
 * A command loop on the replicated journal that is, at any time, the leader or a follower.
 *
 * A follower applies the stream's commands to its engine in order (the same state as the leader's
 * at the same seq), serves reads from it, refuses commands with NotLeaderError naming the lease's
 * holder, and keeps local snapshots. When the lease is free it takes it, reads the stream to its
 * end, and becomes the leader: a JournaledCommandLoop on the same engine, appending with the
 * stream's end as the expected last sequence.
 *
 * A leader that loses its lease (or whose append is fenced: another leader wrote) stops for good:
 * its engine may hold commands the stream never got, so only a recovery from the stream, as a
 * follower, is safe (the server restarts itself; see server.ts).
 */
export class ReplicatedCommandLoop implements CommandLoop {
  readonly queries: EngineQueries;
  private current: Role = 'follower';
  private leader: JournaledCommandLoop | undefined;
  private leaderAddress: string | undefined;
  private failure: CommandLoopFailedError | undefined;
  private closing: Promise<void> | undefined;
  private following: Promise<void> | undefined;
  private streamSeq: number;
  private lastTimestamp: number;
  private snapshotSeq: number;
  private snapshotWrite: Promise<void> | undefined;
  private readonly listeners: EventListeners;

  constructor(private readonly parts: ReplicatedLoopParts) {
    this.queries = parts.engine;
    this.listeners = new EventListeners(parts.logger);
    this.streamSeq = parts.streamSeq;
    this.lastTimestamp = parts.lastTimestamp;
    this.snapshotSeq = parts.snapshotSeq;
  }

  /** Takes the lease if it is free (then leads), or starts following. Resolves once the role is known. */
  async start(): Promise<void> {
    this.parts.replication?.role('follower');
    try {
      if (await this.tryToLead()) return;
    } catch (err) {
      // NATS may still be electing the bucket's leader: following retries the lease.
      this.parts.logger.warn({ err }, 'asking for the lease failed; following meanwhile');
    }
    this.following = this.follow();
  }

  role(): Role {
    return this.current;
  }

  /** The engine's state hash: the same on every replica at the same seq. */
  stateHash(): string {
    return this.parts.engine.stateHash();
  }

  submit<I extends CommandInput>(input: I): Promise<ResultOf<I['kind']>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new ShuttingDownError('the matching engine is shutting down'));
    if (this.leader === undefined) return Promise.reject(new NotLeaderError(this.leaderAddress));
    // The timer that notices a lapsed lease may run late (a paused process): the deadline is checked here too.
    if (!this.parts.lease.isHeld()) return Promise.reject(this.leaseLost('the lease lapsed before this command'));
    return this.leader.submit(input);
  }

  onEvents(listener: EventListener): () => void {
    return this.listeners.add(listener);
  }

  queueDepth(): number {
    return this.leader?.queueDepth() ?? 0;
  }

  freeDiskBytes(): number {
    return this.parts.diskSpace.freeBytes();
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async follow(): Promise<void> {
    const { pollMs, leaseCheckMs, logger } = this.parts;
    let nextLeaseCheck = performance.now() + leaseCheckMs;
    while (this.closing === undefined && this.failure === undefined) {
      try {
        await this.catchUp();
        if (performance.now() >= nextLeaseCheck) {
          nextLeaseCheck = performance.now() + leaseCheckMs;
          if (await this.tryToLead()) return;
        }
      } catch (err) {
        if (err instanceof JournalCorruptError) {
          this.fail(new CommandLoopFailedError(`the stream does not follow on from this replica's state: ${err.message}`, 'ENGINE_FAILED', { cause: err }));
          return;
        }
        logger.warn({ err }, 'follower: reading the stream or the lease failed; retrying');
      }
      await sleep(pollMs);
    }
  }

  /** Applies what the stream holds past streamSeq, as of now. */
  private async catchUp(): Promise<void> {
    const { engine, journal, replication } = this.parts;
    let lastStreamSeq = this.streamSeq;
    let applied = 0;
    for await (const { streamSeq, batch } of journal.readAfter(this.streamSeq, (end) => (lastStreamSeq = end))) {
      if (this.closing !== undefined) return;
      const first = applied;
      for (const cmd of batch) {
        if (cmd.seq <= engine.lastSeq()) continue;
        if (cmd.seq !== engine.lastSeq() + 1) throw new JournalCorruptError(`stream message ${streamSeq} holds seq ${cmd.seq} after seq ${engine.lastSeq()}`);
        const result = engine.apply(cmd);
        if (engine.lastSeq() !== cmd.seq) throw new JournalCorruptError(`applying seq ${cmd.seq} left the engine at seq ${engine.lastSeq()}`);
        this.lastTimestamp = cmd.timestamp;
        if (result.ok) this.listeners.emit(cmd.seq, result.events);
        applied += 1;
      }
      this.parts.replica.applied(batch.slice(batch.length - (applied - first)));
      this.streamSeq = streamSeq;
      replication?.applied(engine.lastSeq(), streamSeq, lastStreamSeq);
      this.snapshotIfDue();
      if (applied >= APPLY_SLICE) {
        applied = 0;
        await sleep(0);
      }
    }
    replication?.applied(engine.lastSeq(), this.streamSeq, lastStreamSeq);
  }

  /** Takes the lease if free; then reads the stream to its end and leads. False if another holds it. */
  private async tryToLead(): Promise<boolean> {
    const { lease, logger, replication } = this.parts;
    const holder = await lease.holder();
    if (holder !== undefined) {
      this.leaderAddress = holder.address;
      return false;
    }
    const acquired = await lease.tryAcquire({
      onLost: (why) => void this.leaseLost(why),
      onRenewed: () => replication?.leaseRenewed(),
    });
    if (!acquired) return false;
    try {
      await this.catchUp();
      await this.parts.journal.takeOver(this.streamSeq, this.parts.engine.lastSeq());
    } catch (err) {
      await lease.release();
      throw err;
    }
    this.leader = this.leaderLoop();
    this.leader.onEvents((seq, events) => this.listeners.emit(seq, events));
    this.current = 'leader';
    this.leaderAddress = undefined;
    replication?.role('leader');
    replication?.promoted();
    logger.info({ lastSeq: this.parts.engine.lastSeq(), streamSeq: this.streamSeq }, 'leading: the lease is held and the stream read to its end; accepting commands');
    await applyConfiguredLimits(this, this.parts.configuredLimits, logger, true);
    return true;
  }

  private leaderLoop(): JournaledCommandLoop {
    const { parts } = this;
    return new JournaledCommandLoop({
      engine: parts.engine,
      journal: parts.journal,
      snapshots: parts.retainCommands > 0 ? retainingSnapshotStore(parts.snapshots, parts.journal, parts.retainCommands, parts.logger) : parts.snapshots,
      replica: parts.replica,
      sequencer: new Sequencer({ lastSeq: parts.engine.lastSeq(), lastTimestamp: this.lastTimestamp }),
      snapshotSeq: this.snapshotSeq,
      lastTimestamp: this.lastTimestamp,
      maxQueueDepth: parts.maxQueueDepth,
      snapshotEvery: parts.snapshotEvery,
      diskSpace: parts.diskSpace,
      dataDir: parts.dataDir,
      logger: parts.logger,
      ...(parts.observer && { observer: parts.observer }),
      onFatalError: (error) => this.fail(error),
      // Only a leader fires timers, and only while it leads: followers apply the leader's `expire` commands.
      mayFireTimers: () => this.failure === undefined && this.closing === undefined && parts.lease.isHeld(),
    });
  }

  private leaseLost(why: string): CommandLoopFailedError {
    this.parts.replication?.leaseLost();
    return this.fail(new CommandLoopFailedError(`${why}: this node no longer leads`, 'LEASE_LOST'));
  }

  /** A follower's snapshot bounds its restart: the state after what it applied, saved in the background. */
  private snapshotIfDue(): void {
    const { engine, snapshots, snapshotEvery, logger, diskSpace, replica } = this.parts;
    const seq = engine.lastSeq();
    if (seq - this.snapshotSeq < snapshotEvery || this.snapshotWrite !== undefined || diskSpace.isLow()) return;
    this.snapshotSeq = seq;
    const timestamp = this.lastTimestamp;
    this.snapshotWrite = replica
      .take(seq, timestamp, snapshots.dir)
      .then(() => snapshots.saved(seq))
      .then(() => logger.info({ seq }, 'follower: wrote snapshot'))
      .catch((err: unknown) => logger.error({ err, seq }, 'follower: writing a snapshot failed; the stream still holds every command'))
      .finally(() => (this.snapshotWrite = undefined));
  }

  private fail(error: CommandLoopFailedError): CommandLoopFailedError {
    if (this.failure) return this.failure;
    this.failure = error;
    this.parts.logger.error({ err: error, reason: error.reason }, 'replicated loop stopped');
    this.parts.onFatalError?.(error);
    return error;
  }

  private async shutDown(): Promise<void> {
    const { lease, journal, diskSpace, dataDirLock, logger } = this.parts;
    await this.following;
    try {
      // Handed over at once rather than after the TTL; the appends still in flight are fenced if another leader wrote first.
      await lease.release();
      if (this.leader) {
        await this.leader.close();
      } else {
        await this.snapshotWrite;
        await this.parts.replica.close();
        diskSpace.stop();
        await journal.close();
      }
    } finally {
      await dataDirLock.release();
    }
    logger.info({ lastSeq: this.parts.engine.lastSeq(), role: this.current }, 'replicated loop closed');
  }
}
