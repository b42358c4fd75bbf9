import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

/** An error that grpc-js sends to the client as the given status code and message. */
export function grpcError(code: status, message: string): ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: new Metadata() });
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}
