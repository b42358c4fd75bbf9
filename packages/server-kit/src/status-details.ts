import type { Metadata, status } from '@grpc/grpc-js';
import { rpcErrorDetails, rpcStatus } from '@orderbook/proto';

/**
 * google.rpc.Status in the standard `grpc-status-details-bin` trailer (AIP-193): what grpcurl,
 * Python's grpc_status, and Go's and Java's status helpers decode.
 */

export const STATUS_DETAILS_TRAILER = 'grpc-status-details-bin';

/** google.rpc.ErrorInfo.domain of every reason this project sends. */
export const ERROR_DOMAIN = 'orderbook';

const TYPE_URL_PREFIX = 'type.googleapis.com/google.rpc.';

/** What a client can act on beyond the code and message (google.rpc.Status details). */
export interface ErrorDetails {
  /** google.rpc.ErrorInfo.reason: UPPER_SNAKE_CASE, stable, part of the contract (e.g. INSUFFICIENT_FUNDS). */
  readonly reason: string;
  /** google.rpc.ErrorInfo.metadata */
  readonly metadata?: Readonly<Record<string, string>>;
  /** google.rpc.BadRequest.field_violations (INVALID_ARGUMENT: one per bad field) */
  readonly fieldViolations?: readonly { readonly field: string; readonly description: string }[];
  /** google.rpc.RetryInfo.retry_delay (RESOURCE_EXHAUSTED, UNAVAILABLE) */
  readonly retryDelayMs?: number;
}

/** The trailer's bytes: code, message, ErrorInfo, then BadRequest and RetryInfo when given. */
export function encodeStatusDetails(code: status, message: string, details: ErrorDetails): Buffer {
  const packed = [
    pack('ErrorInfo', rpcErrorDetails.ErrorInfo.encode({ reason: details.reason, domain: ERROR_DOMAIN, metadata: { ...details.metadata } }).finish()),
  ];
  if (details.fieldViolations !== undefined && details.fieldViolations.length > 0) {
    const fieldViolations = details.fieldViolations.map((v) => rpcErrorDetails.BadRequest_FieldViolation.fromPartial({ field: v.field, description: v.description }));
    packed.push(pack('BadRequest', rpcErrorDetails.BadRequest.encode({ fieldViolations }).finish()));
  }
  if (details.retryDelayMs !== undefined) {
    const ms = Math.max(0, Math.ceil(details.retryDelayMs));
    const retryDelay = { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
    packed.push(pack('RetryInfo', rpcErrorDetails.RetryInfo.encode({ retryDelay }).finish()));
  }
  return Buffer.from(rpcStatus.Status.encode({ code, message, details: packed }).finish());
}

/** The google.rpc.Status that an error made by grpcError carries in its trailer (undefined for another error). */
export function statusDetailsOf(error: { readonly metadata?: Metadata }): rpcStatus.Status | undefined {
  const [bytes] = error.metadata?.get(STATUS_DETAILS_TRAILER) ?? [];
  return bytes instanceof Buffer ? rpcStatus.Status.decode(bytes) : undefined;
}

function pack(type: string, value: Uint8Array): { typeUrl: string; value: Buffer } {
  return { typeUrl: TYPE_URL_PREFIX + type, value: Buffer.from(value) };
}
