import { create, fromBinary, toJson, type DescMessage, type FileRegistry, type JsonObject } from '@bufbuild/protobuf';
import { status as Code } from '@grpc/grpc-js';

/**
 * gRPC status → HTTP status, as google.rpc.Code documents it (and grpc-gateway does):
 * FAILED_PRECONDITION is 400 (the request must change), ALREADY_EXISTS and ABORTED are 409.
 */
export const HTTP_STATUS_OF: Readonly<Record<Code, number>> = {
  [Code.OK]: 200,
  [Code.CANCELLED]: 499,
  [Code.UNKNOWN]: 500,
  [Code.INVALID_ARGUMENT]: 400,
  [Code.DEADLINE_EXCEEDED]: 504,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
  [Code.PERMISSION_DENIED]: 403,
  [Code.RESOURCE_EXHAUSTED]: 429,
  [Code.FAILED_PRECONDITION]: 400,
  [Code.ABORTED]: 409,
  [Code.OUT_OF_RANGE]: 400,
  [Code.UNIMPLEMENTED]: 501,
  [Code.INTERNAL]: 500,
  [Code.UNAVAILABLE]: 503,
  [Code.DATA_LOSS]: 500,
  [Code.UNAUTHENTICATED]: 401,
};

/** An error answer: HTTP status, the google.rpc.Status JSON body, and Retry-After seconds when the client should retry later. */
export interface ErrorAnswer {
  readonly httpStatus: number;
  readonly body: JsonObject;
  readonly retryAfterSeconds?: number;
}

/** Retrying a throttled or unavailable call makes sense after this long when the service said nothing. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * Builds google.rpc.Status JSON answers, decoding the details a service sent in the
 * `grpc-status-details-bin` trailer (with the google.rpc types of the descriptor set, so every
 * detail, ErrorInfo, BadRequest, RetryInfo and the rest, passes through in its JSON form).
 */
export class RpcStatuses {
  private readonly statusType: DescMessage;

  constructor(private readonly registry: FileRegistry) {
    const statusType = registry.getMessage('google.rpc.Status');
    if (statusType === undefined) throw new Error('descriptor set without google.rpc.Status: run make proto');
    this.statusType = statusType;
  }

  /** The answer for a gRPC status; detailsBin is the trailer's value when the service sent one. */
  answer(code: Code, message: string, detailsBin?: Uint8Array): ErrorAnswer {
    const body = this.statusJson(code, message, detailsBin);
    const httpStatus = HTTP_STATUS_OF[code] ?? 500;
    const retryable = code === Code.RESOURCE_EXHAUSTED || code === Code.UNAVAILABLE;
    return retryable ? { httpStatus, body, retryAfterSeconds: retryDelaySeconds(body) ?? DEFAULT_RETRY_AFTER_SECONDS } : { httpStatus, body };
  }

  private statusJson(code: Code, message: string, detailsBin?: Uint8Array): JsonObject {
    if (detailsBin !== undefined && detailsBin.length > 0) {
      try {
        const decoded = toJson(this.statusType, fromBinary(this.statusType, detailsBin), { registry: this.registry }) as JsonObject;
        // The trailer's own code and message are the call's; a mismatch is the service's bug: trust the call.
        return { ...decoded, code, message };
      } catch {
        // Details that do not decode (an unknown detail type) are dropped; code and message remain.
      }
    }
    return toJson(this.statusType, create(this.statusType, { code, message })) as JsonObject;
  }
}

/** google.rpc.RetryInfo's delay, rounded up to whole seconds, if the details carry one. */
function retryDelaySeconds(status: JsonObject): number | undefined {
  const details = Array.isArray(status['details']) ? status['details'] : [];
  for (const detail of details) {
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) continue;
    if (detail['@type'] !== 'type.googleapis.com/google.rpc.RetryInfo') continue;
    const delay = /^(\d+)(?:\.(\d+))?s$/.exec(String(detail['retryDelay'] ?? ''));
    if (delay) return Math.max(1, Math.ceil(Number(`${delay[1]}.${delay[2] ?? '0'}`)));
  }
  return undefined;
}
