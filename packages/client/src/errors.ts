import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { decodeStatusDetails, STATUS_DETAILS_KEY, type FieldViolation, type StatusDetails } from './status-details';

/** Every failed call of the client: the gRPC code and, where the service sent them, the rich details. */
export class OrderbookError extends Error {
  override readonly name = 'OrderbookError';
  /** The gRPC status code (grpc.status). */
  readonly code: status;
  /** google.rpc.ErrorInfo.reason (UPPER_SNAKE_CASE), when the service sent one. */
  readonly reason: string | undefined;
  /** google.rpc.ErrorInfo.metadata */
  readonly metadata: Readonly<Record<string, string>>;
  /** google.rpc.BadRequest.field_violations: one per wrong request field. */
  readonly fieldViolations: readonly FieldViolation[];
  /** google.rpc.RetryInfo: wait at least this long before trying again. */
  readonly retryDelayMs: number | undefined;

  constructor(code: status, message: string, details?: Omit<StatusDetails, 'code' | 'message'>) {
    super(message);
    this.code = code;
    this.reason = details?.reason;
    this.metadata = details?.metadata ?? {};
    this.fieldViolations = details?.fieldViolations ?? [];
    this.retryDelayMs = details?.retryDelayMs;
  }

  /** The name of the status code, e.g. UNAVAILABLE. */
  get codeName(): string {
    return status[this.code] ?? String(this.code);
  }
}

function detailsOf(metadata: Metadata | undefined): StatusDetails | undefined {
  const [bytes] = metadata?.get(STATUS_DETAILS_KEY) ?? [];
  if (!(bytes instanceof Uint8Array)) return undefined;
  try {
    return decodeStatusDetails(bytes);
  } catch {
    // Undecodable details leave the code and message, which are all a client must have.
    return undefined;
  }
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}

/** What a failed gRPC call becomes; anything that is not a gRPC error passes unchanged. */
export function toOrderbookError(err: unknown): unknown {
  if (err instanceof OrderbookError || !isServiceError(err)) return err;
  return new OrderbookError(err.code, err.details, detailsOf(err.metadata));
}
