import { status } from '@grpc/grpc-js';
import type { EngineError, EngineErrorCode } from '@orderbook/engine';
import { grpcError, INVALID_FIELD, statusRule, StatusAdapter, type ErrorDetails, type Logger, type StatusRule } from '@orderbook/server-kit';
import { CommandLoopFailedError, DiskSpaceLowError, NotLeaderError, OverloadedError, ShuttingDownError } from '../loop/errors';

/** The engine refused a command (which changed nothing) or a request field; its message names the field. */
export class EngineRejectedError extends Error {
  override readonly name = 'EngineRejectedError';
  constructor(
    readonly error: EngineError,
    /** The kind of command refused, where the same code and field mean another thing per kind. */
    readonly kind?: string,
  ) {
    super(error.message);
  }
}

const ENGINE_CODES: Readonly<Record<EngineErrorCode, status>> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
};

/**
 * The ErrorInfo reason of each engine rejection, by its code and the field it names (the engine
 * names the field at fault; an overdraft names none), or first by the command's kind, code and
 * field. Part of the contract: README "Error reasons".
 */
export const ENGINE_REASONS: Readonly<Record<string, string>> = {
  'amend FAILED_PRECONDITION quantity': 'AMEND_BELOW_FILLED',
  'amend FAILED_PRECONDITION stop_price': 'STOP_NOT_AMENDABLE',
  'amend FAILED_PRECONDITION oco_order_id': 'OCO_NOT_AMENDABLE',
  'FAILED_PRECONDITION stop_price': 'TOO_MANY_STOP_ORDERS',
  'FAILED_PRECONDITION market': 'TOO_MANY_OPEN_ORDERS',
  'withdraw FAILED_PRECONDITION amount': 'INSUFFICIENT_FUNDS',
  'FAILED_PRECONDITION ': 'INSUFFICIENT_FUNDS',
  'FAILED_PRECONDITION quantity': 'INSUFFICIENT_LIQUIDITY',
  'FAILED_PRECONDITION post_only': 'POST_ONLY_WOULD_TAKE',
  'FAILED_PRECONDITION time_in_force': 'FOK_NOT_FILLABLE',
  'FAILED_PRECONDITION self_trade_prevention': 'SELF_TRADE_PREVENTED',
  'FAILED_PRECONDITION order_id': 'ORDER_NOT_OPEN',
  'FAILED_PRECONDITION client_order_id': 'ORDER_NOT_OPEN',
  'NOT_FOUND order_id': 'ORDER_NOT_FOUND',
  'NOT_FOUND client_order_id': 'ORDER_NOT_FOUND',
  'ALREADY_EXISTS client_order_id': 'CLIENT_ORDER_ID_IN_USE',
  'ALREADY_EXISTS request_id': 'REQUEST_ID_IN_USE',
};
/** The reason of an engine rejection the table above does not name. */
export const ORDER_REJECTED = 'ORDER_REJECTED';

function engineDetails(error: EngineError, kind: string | undefined): ErrorDetails {
  if (error.code === 'INVALID_ARGUMENT') {
    const field = error.field ?? '';
    const description = error.message.startsWith(`${field}: `) ? error.message.slice(field.length + 2) : error.message;
    return { reason: INVALID_FIELD, fieldViolations: [{ field, description }] };
  }
  const key = `${error.code} ${error.field ?? ''}`;
  const reason = ENGINE_REASONS[`${kind} ${key}`] ?? ENGINE_REASONS[key] ?? ORDER_REJECTED;
  return { reason, ...(error.field === undefined ? {} : { metadata: { field: error.field } }) };
}

/** How long a caller refused because the command queue is full should wait. */
const OVERLOAD_RETRY_DELAY_MS = 100;

/** The statuses of the matching service's own failures, for the unary RPCs, the streams and OrderSession alike. */
export function matchingStatuses(logger: Logger): StatusAdapter {
  return new StatusAdapter(
    [
      statusRule(EngineRejectedError, (err) => [ENGINE_CODES[err.error.code], err.error.message, engineDetails(err.error, err.kind)]),
      statusRule(OverloadedError, () => [
        status.RESOURCE_EXHAUSTED,
        'too many commands waiting for the matching engine: retry later',
        { reason: 'QUEUE_FULL', retryDelayMs: OVERLOAD_RETRY_DELAY_MS },
      ]),
      statusRule(ShuttingDownError, () => [status.UNAVAILABLE, 'the matching service is shutting down', { reason: 'SHUTTING_DOWN', retryDelayMs: 1000 }]),
      diskSpaceLow,
      notLeader,
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

/** How long a caller refused by a follower that knows no leader should wait: about one lease TTL. */
const NO_LEADER_RETRY_DELAY_MS = 1000;

const notLeader: StatusRule = (err) =>
  err instanceof NotLeaderError
    ? grpcError(status.UNAVAILABLE, err.message, {
        reason: 'NOT_LEADER',
        ...(err.leaderAddress === undefined ? { retryDelayMs: NO_LEADER_RETRY_DELAY_MS } : { metadata: { leader_address: err.leaderAddress } }),
      })
    : undefined;

const loopFailed: StatusRule = (err) =>
  err instanceof CommandLoopFailedError
    ? grpcError(status.UNAVAILABLE, `the matching engine stopped and is restarting: ${err.message}`, {
        reason: err.reason,
        retryDelayMs: RESTART_RETRY_DELAY_MS,
      })
    : undefined;
