import { status } from '@grpc/grpc-js';
import type { EngineError, EngineErrorCode } from '@orderbook/engine';
import { grpcError, statusRule, StatusAdapter, type Logger, type StatusRule } from '@orderbook/server-kit';
import { CommandLoopFailedError, DiskSpaceLowError, OverloadedError, ShuttingDownError } from '../loop/errors';

/** The engine refused a command (which changed nothing) or a request field; its message names the field. */
export class EngineRejectedError extends Error {
  override readonly name = 'EngineRejectedError';
  constructor(readonly error: EngineError) {
    super(error.message);
  }
}

const ENGINE_CODES: Readonly<Record<EngineErrorCode, status>> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
};

/** The statuses of the matching service's own failures, for the unary RPCs, the streams and OrderSession alike. */
export function matchingStatuses(logger: Logger): StatusAdapter {
  return new StatusAdapter(
    [
      statusRule(EngineRejectedError, (err) => [ENGINE_CODES[err.error.code], err.error.message]),
      statusRule(OverloadedError, () => [status.RESOURCE_EXHAUSTED, 'too many commands waiting for the matching engine: retry later']),
      statusRule(ShuttingDownError, () => [status.UNAVAILABLE, 'the matching service is shutting down']),
      diskSpaceLow,
      loopFailed,
    ],
    logger,
  );
}

/** How long a caller refused because the engine stopped should wait: the restart and its replay. */
const RESTART_RETRY_DELAY_MS = 5000;

const diskSpaceLow: StatusRule = (err) =>
  err instanceof DiskSpaceLowError
    ? grpcError(status.UNAVAILABLE, err.message, {
        reason: 'DISK_SPACE_LOW',
        metadata: { free_bytes: String(err.freeBytes), reserve_bytes: String(err.reserveBytes) },
        retryDelayMs: err.retryDelayMs,
      })
    : undefined;

const loopFailed: StatusRule = (err) =>
  err instanceof CommandLoopFailedError
    ? grpcError(status.UNAVAILABLE, `the matching engine stopped and is restarting: ${err.message}`, {
        reason: err.reason,
        retryDelayMs: RESTART_RETRY_DELAY_MS,
      })
    : undefined;
