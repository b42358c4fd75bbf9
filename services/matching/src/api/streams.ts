import { Metadata, type handleServerStreamingCall, type ServerWritableStream } from '@grpc/grpc-js';
import type { matching } from '@orderbook/proto';
import type { ClientAddresses, StatusAdapter } from '@orderbook/server-kit';
import { callerOf, sessionOf } from '../auth/caller-identity';
import type { LiveCalls } from '../ops/live-calls';
import type { MatchingMetrics, StreamName } from '../ops/metrics';
import type { Serving, ServiceState } from '../ops/service-state';
import type { MarketDirectory } from './markets';
import { bookQuery } from './requests';
import type { StreamLimits } from './stream-limits';
import { Subscriber } from './subscriber';
import * as valid from './validation';

export interface StreamDeps {
  readonly state: ServiceState;
  readonly markets: MarketDirectory;
  readonly liveCalls: LiveCalls;
  readonly metrics: MatchingMetrics;
  readonly streamLimits: StreamLimits;
  readonly clientAddresses: ClientAddresses;
  readonly statuses: StatusAdapter;
}

type StreamHandlers = Pick<matching.MatchingServiceServer, 'streamOrderBook' | 'streamTrades' | 'streamOrderUpdates'>;

/**
 * The server-streaming RPCs: market data (public) and the caller's own order updates. Messages
 * are written as bytes encoded once for all subscribers (the service definition is given
 * acceptEncodedResponses), hence the untyped calls.
 */
export function streamHandlers(deps: StreamDeps): StreamHandlers {
  return {
    streamOrderBook: subscription(deps, 'order_book', (call: ServerWritableStream<matching.StreamOrderBookRequest, unknown>) => {
      const { market, depth } = bookQuery(call.request, deps.markets);
      return (out, { marketData }) => {
        const feed = marketData.book(market);
        // The snapshot may be ahead of the changes delivered so far: those up to its seq are skipped.
        const first = feed.snapshot(depth, false);
        out.write(first.message);
        feed.add({ out, position: first.seq, depth });
      };
    }),

    streamTrades: subscription(deps, 'trades', (call: ServerWritableStream<matching.StreamTradesRequest, unknown>) => {
      const market = valid.market(call.request.market, deps.markets);
      return (out, { marketData }) => {
        const feed = marketData.tradesOf(market);
        feed.add({ out, position: feed.headSeq });
      };
    }),

    streamOrderUpdates: subscription(deps, 'order_updates', (call: ServerWritableStream<matching.StreamOrderUpdatesRequest, unknown>) => {
      const { userId } = callerOf(call);
      const market = valid.marketFilter(call.request.market, deps.markets);
      return (out, { marketData }) => marketData.orders.add(userId, { out, market });
    }),
  };
}

/** Starts delivering to a subscriber. */
type Start = (out: Subscriber, serving: Serving) => void;

/**
 * The life of one subscription: validate the request (prepare), take a place within the stream
 * limits (RESOURCE_EXHAUSTED past them), then start delivering; end with UNAVAILABLE at shutdown
 * (naming the cause) or UNAUTHENTICATED when the caller's session is revoked, and give the place
 * back whenever the stream finishes.
 */
function subscription<Req>(
  deps: StreamDeps,
  name: StreamName,
  prepare: (call: ServerWritableStream<Req, unknown>) => Start,
): handleServerStreamingCall<Req, unknown> {
  return (call) => {
    const out = new Subscriber(call as ServerWritableStream<unknown, unknown>, deps.streamLimits);
    let start: Start;
    let serving: Serving;
    let leave: () => void;
    try {
      start = prepare(call);
      serving = deps.state.current();
    } catch (err) {
      out.fail(deps.statuses.toServiceError(err, call.getPath()));
      return;
    }
    try {
      leave = deps.streamLimits.admit(deps.clientAddresses.of(call));
    } catch (err) {
      deps.metrics.streamRefused(name);
      out.fail(deps.statuses.toServiceError(err, call.getPath()));
      return;
    }
    out.onFinish(leave);
    deps.metrics.streamOpened(name);
    out.onFinish(() => deps.metrics.streamClosed(name));
    try {
      // Headers say at once that the stream was accepted, so a proxy (the HTTP gateway) can
      // answer its client before the first message, which on a quiet market may be long in coming.
      call.sendMetadata(new Metadata());
      start(out, serving);
      out.onFinish(deps.liveCalls.register((reason) => out.fail(reason), sessionOf(call)));
    } catch (err) {
      out.fail(deps.statuses.toServiceError(err, call.getPath()));
    }
  };
}
