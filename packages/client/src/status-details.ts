import { rpcErrorDetails, rpcStatus } from '@orderbook/proto';

/**
 * The `grpc-status-details-bin` trailer: a google.rpc.Status whose details are google.protobuf.Any
 * messages, decoded with the generated google.rpc types of @orderbook/proto. Details of other
 * types are skipped.
 */

export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

const TYPE_PREFIX = 'type.googleapis.com/';
export const ERROR_INFO_TYPE = `${TYPE_PREFIX}google.rpc.ErrorInfo`;
export const BAD_REQUEST_TYPE = `${TYPE_PREFIX}google.rpc.BadRequest`;
export const RETRY_INFO_TYPE = `${TYPE_PREFIX}google.rpc.RetryInfo`;

export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/** What the details of a google.rpc.Status say, of the kinds the services send. */
export interface StatusDetails {
  readonly code: number;
  readonly message: string;
  /** google.rpc.ErrorInfo.reason, e.g. INSUFFICIENT_FUNDS. */
  readonly reason?: string;
  readonly domain?: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** google.rpc.BadRequest.field_violations */
  readonly fieldViolations: readonly FieldViolation[];
  /** google.rpc.RetryInfo.retry_delay, in milliseconds. */
  readonly retryDelayMs?: number;
}

/** Decodes a serialized google.rpc.Status; throws on bytes that are not one. */
export function decodeStatusDetails(bytes: Uint8Array): StatusDetails {
  const status = rpcStatus.Status.decode(bytes);
  let info: rpcErrorDetails.ErrorInfo | undefined;
  const fieldViolations: FieldViolation[] = [];
  let retryDelayMs: number | undefined;
  for (const detail of status.details) {
    if (detail.typeUrl === ERROR_INFO_TYPE) info = rpcErrorDetails.ErrorInfo.decode(detail.value);
    else if (detail.typeUrl === BAD_REQUEST_TYPE) {
      fieldViolations.push(...rpcErrorDetails.BadRequest.decode(detail.value).fieldViolations.map(({ field, description }) => ({ field, description })));
    } else if (detail.typeUrl === RETRY_INFO_TYPE) {
      const delay = rpcErrorDetails.RetryInfo.decode(detail.value).retryDelay;
      retryDelayMs = delay === undefined ? 0 : Number(delay.seconds) * 1000 + Math.ceil(delay.nanos / 1e6);
    }
  }
  return {
    code: status.code,
    message: status.message,
    ...(info === undefined ? {} : { reason: info.reason, domain: info.domain }),
    metadata: info?.metadata ?? {},
    fieldViolations,
    ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
  };
}
