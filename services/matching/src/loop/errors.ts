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
 * The loop cannot go on: a journal write or fsync failed (memory is ahead of disk) or the engine
 * threw or answered out of contract mid-command. Callers whose commands were in flight get this
 * error; the process must restart and recover from disk.
 */
export class CommandLoopFailedError extends Error {
  override readonly name = 'CommandLoopFailedError';
}
