import type * as grpc from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';

/** An open OrderSession: send requests, await the response to a given request_id. */
export class Session {
  readonly responses: matching.OrderSessionResponse[] = [];
  readonly ended: Promise<grpc.StatusObject>;
  private readonly call: grpc.ClientDuplexStream<matching.OrderSessionRequest, matching.OrderSessionResponse>;
  private waiters: Array<() => boolean> = [];

  constructor(client: matching.MatchingServiceClient, metadata: grpc.Metadata) {
    this.call = client.orderSession(metadata);
    this.call.on('data', (response: matching.OrderSessionResponse) => {
      this.responses.push(response);
      this.waiters = this.waiters.filter((check) => !check());
    });
    this.call.on('error', () => undefined);
    this.ended = new Promise((resolve) => this.call.on('status', resolve));
  }

  send(request: matching.DeepPartial<matching.OrderSessionRequest>): void {
    this.call.write(matching.OrderSessionRequest.fromPartial(request));
  }

  async request(request: matching.DeepPartial<matching.OrderSessionRequest>): Promise<matching.OrderSessionResponse> {
    const requestId = request.requestId ?? 0n;
    this.send(request);
    return this.response(requestId);
  }

  response(requestId: bigint): Promise<matching.OrderSessionResponse> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const found = this.responses.find((r) => r.requestId === requestId);
        if (found !== undefined) resolve(found);
        return found !== undefined;
      };
      if (!check()) this.waiters.push(check);
    });
  }

  end(): Promise<grpc.StatusObject> {
    this.call.end();
    return this.ended;
  }

  /** Cancels the stream from the client side, as a client that gives up on it does. */
  cancel(): Promise<grpc.StatusObject> {
    this.call.cancel();
    return this.ended;
  }
}
