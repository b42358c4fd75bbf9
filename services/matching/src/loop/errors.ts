/**
 * Why the command loop did not answer a command with the engine's result. The API answers each
 * with its status (api/status-mapping.ts); the loop itself knows nothing of gRPC.
 */

/** The queue is past its bound: RESOURCE_EXHAUSTED, retry later. */
export class OverloadedError extends Error {
  override readonly name = 'OverloadedError';
}

/** The loop is closing or closed: UNAVAILABLE. */
export class ShuttingDownError extends Error {
  override readonly name = 'ShuttingDownError';
}

/**
 * Free space in the data directory is below the reserve: the command was refused before it was
 * applied (nothing changed); UNAVAILABLE, retry once space returns.
 */
export class DiskSpaceLowError extends Error {
  override readonly name = 'DiskSpaceLowError';
  constructor(
    readonly dir: string,
    readonly freeBytes: number,
    readonly reserveBytes: number,
    readonly retryDelayMs: number,
  ) {
    super(
      `free space for ${dir} is ${freeBytes} bytes, below the reserve of ${reserveBytes} (MATCHING_DISK_RESERVE_BYTES): ` +
        'commands are refused until space returns; reads and streams go on',
    );
  }
}

/** Why the loop stopped for good. */
export type LoopFailure = 'DISK_FULL' | 'JOURNAL_WRITE_FAILED' | 'JOURNAL_FENCED' | 'LEASE_LOST' | 'ENGINE_FAILED';

/**
 * The loop cannot go on: a journal write or fsync failed (memory is ahead of disk; DISK_FULL when
 * the file system said ENOSPC; JOURNAL_FENCED when another leader appended to the replicated
 * journal, so this process was deposed; LEASE_LOST when the leader could not renew its lease in
 * time) or the engine threw or answered out of contract mid-command.
 * Callers whose commands were in flight, and every later caller, get this error; the process must
 * restart and recover from disk.
 */
export class CommandLoopFailedError extends Error {
  override readonly name = 'CommandLoopFailedError';
  constructor(
    message: string,
    readonly reason: LoopFailure,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * This replica follows the leader (the replicated journal's lease holder) and takes no commands:
 * UNAVAILABLE with reason NOT_LEADER and the leader's address, for the client to send it there.
 */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  constructor(readonly leaderAddress: string | undefined) {
    super(
      leaderAddress === undefined
        ? 'this matching replica is a follower and no leader is known yet: retry shortly'
        : `this matching replica is a follower: send commands to the leader at ${leaderAddress}`,
    );
  }
}
