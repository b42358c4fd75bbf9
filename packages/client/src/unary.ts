import { Metadata, type CallOptions, type Client, type ServiceError } from '@grpc/grpc-js';
import { toOrderbookError } from './errors';

/** A generated unary method of a ts-proto client. */
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (err: ServiceError | null, response: Res) => void,
) => unknown;

/** One unary call with a deadline; a failure rejects with an OrderbookError. */
export function callUnary<Req, Res>(client: Client, method: UnaryMethod<Req, Res>, request: Req, metadata: Metadata, deadlineMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, request, metadata, { deadline: Date.now() + deadlineMs }, (err, response) => (err ? reject(toOrderbookError(err)) : resolve(response)));
  });
}

export function bearer(accessToken: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${accessToken}`);
  return metadata;
}
