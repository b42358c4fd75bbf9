import * as grpc from '@grpc/grpc-js';

/** A generated client's unary method (callback form). */
export type UnaryMethod<Request, Response> = (
  request: Request,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Response) => void,
) => grpc.ClientUnaryCall;

/** A generated client's unary method as a promise, with a deadline (set-up calls only; the load path uses callbacks directly). */
export function callUnary<Request, Response>(
  method: UnaryMethod<Request, Response>,
  request: Request,
  metadata = new grpc.Metadata(),
  deadlineMs = 30_000,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    method(request, metadata, { deadline: Date.now() + deadlineMs }, (error, response) => (error === null ? resolve(response) : reject(error)));
  });
}
