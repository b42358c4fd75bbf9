import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { ClientAddresses, createLogger, StatusAdapter } from '@orderbook/server-kit';
import { attachIdentity } from '../../src/auth/caller-identity';
import { LiveCalls } from '../../src/ops/live-calls';
import { MatchingMetrics } from '../../src/ops/metrics';
import { ServiceState } from '../../src/ops/service-state';
import type { OrderEntry } from '../../src/api/order-entry';
import { orderSessionHandler } from '../../src/api/order-session';
import { StreamLimits } from '../../src/api/stream-limits';

const MAX_IN_FLIGHT = 3;

/**
 * OrderSession's in-flight bound, against an OrderEntry whose commands complete only when the test
 * lets them: at no point may more than MAX_IN_FLIGHT commands of one session be outstanding.
 */
describe('OrderSession flow control', () => {
  let server: grpc.Server;
  let client: matching.MatchingServiceClient;
  const pending: Array<() => void> = [];
  let received = 0;
  let mostInFlight = 0;
  const total = 20;

  const entry = {
    placeLimitOrder: (_userId: string, request: matching.PlaceLimitOrderRequest): Promise<matching.PlaceLimitOrderResponse> =>
      new Promise((resolve) => {
        received += 1;
        pending.push(() => resolve({ order: matching.Order.fromPartial({ clientOrderId: request.clientOrderId }), trades: [] }));
        mostInFlight = Math.max(mostInFlight, pending.length);
        // Complete the oldest command only once the session has had every chance to exceed its bound.
        if (pending.length === MAX_IN_FLIGHT || received === total) setImmediate(completeOldest);
      }),
  } as unknown as OrderEntry;

  /** Completes the oldest command; once every request has arrived, keeps going until none is left. */
  function completeOldest(): void {
    pending.shift()?.();
    if (received === total && pending.length > 0) setImmediate(completeOldest);
  }

  before(async () => {
    const identify: grpc.ServerInterceptor = (_method, call) =>
      new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata: (metadata, nextMetadata) => {
              attachIdentity(metadata, { userId: 'user-1', sessionId: 's', roles: ['trader'], tokenId: 't', issuedAt: Date.now(), expiresAt: Date.now() + 60_000 });
              nextMetadata(metadata);
            },
          }),
      });
    server = new grpc.Server({ interceptors: [identify] });
    const logger = createLogger('order-session-test', 'silent');
    server.addService(matching.MatchingServiceService, {
      orderSession: orderSessionHandler({
        entry, liveCalls: new LiveCalls(), metrics: new MatchingMetrics(), maxInFlight: MAX_IN_FLIGHT, statuses: new StatusAdapter([], logger),
        state: new ServiceState(), logger,
        streamLimits: new StreamLimits({ maxStreams: 10, maxStreamsPerPeer: 10, memoryBudgetBytes: 1 << 20 }), clientAddresses: new ClientAddresses(new Set()),
      }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    client = new matching.MatchingServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client.close();
    server.forceShutdown();
  });

  it(`never has more than ${MAX_IN_FLIGHT} commands in flight, and answers every request`, async () => {
    const call = client.orderSession(new grpc.Metadata());
    const responses: matching.OrderSessionResponse[] = [];
    call.on('data', (response: matching.OrderSessionResponse) => responses.push(response));
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    for (let i = 0; i < total; i++) {
      call.write(matching.OrderSessionRequest.fromPartial({ requestId: BigInt(i), placeLimitOrder: { clientOrderId: `c${i}` } }));
    }
    call.end();

    expect((await status).code).to.equal(grpc.status.OK);
    expect(mostInFlight).to.equal(MAX_IN_FLIGHT);
    expect(responses.map((r) => [r.requestId, r.placeLimitOrder?.order?.clientOrderId])).to.deep.equal(
      Array.from({ length: total }, (_, i) => [BigInt(i), `c${i}`]),
    );
  });
});
