import * as grpc from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';

export interface FakeServer {
  readonly address: string;
  stop(): Promise<void>;
}

/** A MatchingService on 127.0.0.1 (a free port) with only the given methods; the rest are UNIMPLEMENTED. */
export async function startFakeMatching(implementation: Partial<matching.MatchingServiceServer>): Promise<FakeServer> {
  const server = new grpc.Server();
  server.addService(matching.MatchingServiceService, implementation as matching.MatchingServiceServer);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** An Order as a fake server answers it. */
export function fakeOrder(fields: Partial<matching.Order>): matching.Order {
  return matching.Order.fromPartial({ status: matching.OrderStatus.ORDER_STATUS_OPEN, ...fields });
}
