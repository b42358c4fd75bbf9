import { status, type handleUnaryCall, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { grpcError, INTERNAL_ERROR, INVALID_FIELD, isServiceError, type ErrorDetails } from './grpc-errors';
import type { Logger } from './logger';

/** A request field is wrong: INVALID_ARGUMENT, with a message that starts with the field's name. */
export class InvalidFieldError extends Error {
  override readonly name = 'InvalidFieldError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** How one class of error reaches the client; undefined for errors of other classes. */
export type StatusRule = (err: unknown) => ServiceError | undefined;

export function statusRule<E extends Error>(type: abstract new (...args: never[]) => E, answer: (err: E) => readonly [status, string, ErrorDetails]): StatusRule {
  return (err) => {
    if (!(err instanceof type)) return undefined;
    const [code, message, details] = answer(err);
    return grpcError(code, message, details);
  };
}

/** INVALID_ARGUMENT for one bad field: reason INVALID_FIELD and its BadRequest field violation. */
export function invalidFieldStatus(field: string, problem: string): ServiceError {
  return grpcError(status.INVALID_ARGUMENT, `${field}: ${problem}`, { reason: INVALID_FIELD, fieldViolations: [{ field, description: problem }] });
}

/**
 * The one place where what a service's handlers and streams throw becomes a gRPC status: a
 * ServiceError passes as it is, an InvalidFieldError is INVALID_ARGUMENT, the service's rules
 * answer its own error classes, and anything else is logged and answered INTERNAL without its
 * message, which may describe internals.
 */
export class StatusAdapter {
  constructor(
    private readonly rules: readonly StatusRule[],
    private readonly logger: Logger,
  ) {}

  toServiceError(err: unknown, method?: string): ServiceError {
    if (isServiceError(err)) return err;
    if (err instanceof InvalidFieldError) return invalidFieldStatus(err.field, err.problem);
    for (const rule of this.rules) {
      const answer = rule(err);
      if (answer !== undefined) return answer;
    }
    this.logger.error({ err, method }, 'unexpected error in a handler');
    return grpcError(status.INTERNAL, 'internal error', { reason: INTERNAL_ERROR });
  }

  /** A grpc-js unary handler: answers with what run returns, or with the status of what it throws. */
  unary<Req, Res>(run: (call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => run(call))
        .then(
          (response) => callback(null, response),
          (err: unknown) => callback(this.toServiceError(err, call.getPath())),
        );
    };
  }
}
