import { status, type ServiceError } from '@grpc/grpc-js';
import type { EngineError, EngineErrorCode } from '@orderbook/engine';
import { grpcError, isServiceError, type Logger } from '@orderbook/server-kit';
import { OverloadedError, ShuttingDownError } from '../loop/command-loop-api';
import { CommandLoopFailedError } from '../loop/command-loop';

const ENGINE_CODES: Readonly<Record<EngineErrorCode, status>> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
};

/** A rejected command as its gRPC status; the engine's message already names the field. */
export function engineErrorToStatus(error: EngineError): ServiceError {
  return grpcError(ENGINE_CODES[error.code], error.message);
}

/**
 * Whatever a handler threw, as the status the client gets. Unexpected errors are logged and
 * answered INTERNAL without their message, which may describe internals.
 */
export function toServiceError(err: unknown, logger: Logger): ServiceError {
  if (isServiceError(err)) return err;
  if (err instanceof OverloadedError) return grpcError(status.RESOURCE_EXHAUSTED, 'too many commands waiting for the matching engine: retry later');
  if (err instanceof ShuttingDownError) return grpcError(status.UNAVAILABLE, 'the matching service is shutting down');
  if (err instanceof CommandLoopFailedError) return grpcError(status.UNAVAILABLE, 'the matching engine stopped and is restarting');
  logger.error({ err }, 'unexpected error in a handler');
  return grpcError(status.INTERNAL, 'internal error');
}
