import { randomUUID } from 'node:crypto';
import { limitsOf } from '@orderbook/engine';
import { LeaderLease, type LeaseConfig } from '../storage/leader-lease';
import { openJetStreamJournal, type JetStreamJournalConfig } from '../storage/open-jetstream-journal';
import { openDurableState, type CommandLoopOptions } from './open-command-loop';
import { ReplicatedCommandLoop, type ReplicationObserver } from './replicated-loop';
import { SnapshotReplica } from './snapshot-replica';

export interface ReplicatedLoopOptions extends CommandLoopOptions {
  readonly jetstream: JetStreamJournalConfig;
  readonly lease: LeaseConfig;
  /** host:port that clients reach this node's gRPC server at; written into the lease while it leads. */
  readonly advertisedAddress: string;
  /** Commands the stream keeps before the leader's newest snapshot (0: it keeps every message). */
  readonly retainCommands?: number;
  /** How often a follower looks for new stream messages (default 20 ms). */
  readonly followPollMs?: number;
  readonly replication?: ReplicationObserver;
}

const DEFAULT_FOLLOW_POLL_MS = 20;

/**
 * Recovers the engine from the data directory's newest snapshot and the stream, then leads (if
 * the lease is free) or follows. Resolves once the role is known.
 */
export async function openReplicatedLoop(options: ReplicatedLoopOptions): Promise<ReplicatedCommandLoop> {
  const { logger } = options;
  const writerId = randomUUID();
  const opened = await openDurableState(options, (dataDir) => openJetStreamJournal(options.jetstream, options.dataDir, dataDir.journal, logger, writerId));
  const { journal, recovered } = opened;
  let loop: ReplicatedCommandLoop | undefined;
  try {
    const lease = await LeaderLease.open(journal.connection, options.lease, { id: writerId, address: options.advertisedAddress }, logger);
    loop = new ReplicatedCommandLoop({
      engine: recovered.engine,
      streamSeq: journal.readEndStreamSeq(),
      lastTimestamp: recovered.lastTimestamp,
      snapshotSeq: recovered.snapshotSeq,
      journal,
      snapshots: opened.dataDir.snapshots,
      replica: SnapshotReplica.recovered(recovered.rebuild, opened.engineConfig, logger),
      configuredLimits: limitsOf(options.engineConfig),
      lease,
      dataDirLock: opened.lock,
      diskSpace: opened.diskSpace,
      dataDir: options.dataDir,
      maxQueueDepth: options.maxQueueDepth,
      snapshotEvery: options.snapshotEvery,
      retainCommands: options.retainCommands ?? 0,
      pollMs: options.followPollMs ?? DEFAULT_FOLLOW_POLL_MS,
      leaseCheckMs: options.lease.renewEveryMs,
      logger,
      ...(options.observer && { observer: options.observer }),
      ...(options.replication && { replication: options.replication }),
      ...(options.onFatalError && { onFatalError: options.onFatalError }),
    });
    await loop.start();
    return loop;
  } catch (err) {
    if (loop) {
      await loop.close();
    } else {
      opened.diskSpace.stop();
      await journal.close();
      await opened.lock.release();
    }
    throw err;
  }
}
