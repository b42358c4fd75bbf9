import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

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

/** An error that grpc-js sends to the client as the given status code and message. */
export function grpcError(code: status, message: string, details?: ErrorDetails): ServiceError {
  return Object.assign(new Error(message), {
    code,
    details: message,
    metadata: new Metadata(),
    ...(details === undefined ? {} : { richDetails: details }),
  });
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}
