import { status, type handleServerStreamingCall, type ServerWritableStream } from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';
import { grpcError, type StatusAdapter } from '@orderbook/server-kit';
import { callerOf } from '../auth/caller-identity';
import type { LiveCalls } from '../ops/live-calls';
import type { MarketDirectory } from './markets';
import type { MatchingMetrics, StreamName } from '../ops/metrics';
import { bookQuery } from './requests';
import type { Serving, ServiceState } from '../ops/service-state';
import { SubscriberStream } from './subscriber-stream';
import * as valid from './validation';
import { depthToProto, levelUpdateToProto, orderToProto, tradeToProto } from './views';

export interface StreamDeps {
  readonly state: ServiceState;
  readonly markets: MarketDirectory;
  readonly liveCalls: LiveCalls;
  readonly metrics: MatchingMetrics;
  /** Messages a subscriber may fall behind before it is cut off. */
  readonly streamBuffer: number;
  readonly statuses: StatusAdapter;
}

type StreamHandlers = Pick<matching.MatchingServiceServer, 'streamOrderBook' | 'streamTrades' | 'streamOrderUpdates'>;

/** The server-streaming RPCs: market data (public) and the caller's own order updates. */
export function streamHandlers(deps: StreamDeps): StreamHandlers {
  return {
    streamOrderBook: subscription(deps, 'order_book', (call: ServerWritableStream<matching.StreamOrderBookRequest, matching.StreamOrderBookResponse>) => {
      const { market, depth } = bookQuery(call.request, deps.markets);
      return (out, { loop, events }) => {
        // Subscribe first, then take the snapshot, so that no change can fall between the two.
        // The loop's queries may already include changes whose events (delivered once durable)
        // are still to come: the snapshot holds those already, so updates up to its sequence are
        // dropped. (Until the snapshot is taken, everything would be.)
        let snapshotSeq = Infinity;
        const unsubscribe = events.onBookLevel(market, (level) => {
          if (level.bookSeq <= snapshotSeq) return;
          out.send({ market, sequence: BigInt(level.bookSeq), update: levelUpdateToProto(level) });
        });
        const snapshot = loop.queries.depth(market, depth);
        if (snapshot === undefined) {
          unsubscribe();
          throw new Error(`the engine has no book for configured market ${market}`);
        }
        snapshotSeq = snapshot.bookSeq;
        out.send({ market, sequence: BigInt(snapshot.bookSeq), snapshot: depthToProto(snapshot) });
        return unsubscribe;
      };
    }),

    streamTrades: subscription(deps, 'trades', (call: ServerWritableStream<matching.StreamTradesRequest, matching.StreamTradesResponse>) => {
      const market = valid.market(call.request.market, deps.markets);
      return (out, { events }) => events.onTrade(market, (trade) => out.send({ trade: tradeToProto(trade) }));
    }),

    streamOrderUpdates: subscription(deps, 'order_updates', (call: ServerWritableStream<matching.StreamOrderUpdatesRequest, matching.StreamOrderUpdatesResponse>) => {
      const { userId } = callerOf(call);
      const market = valid.marketFilter(call.request.market, deps.markets);
      return (out, { events }) =>
        events.onOrderChange(userId, ({ order, trade }) => {
          if (market !== undefined && order.market !== market) return;
          out.send({ order: orderToProto(order), trade: trade === undefined ? undefined : tradeToProto(trade) });
        });
    }),
  };
}

/** Starts delivering to a subscriber; returns what stops the delivery. */
type Start<Res> = (out: SubscriberStream<Res>, serving: Serving) => () => void;

/**
 * The life of one subscription: validate the request (prepare), then start delivering; end with
 * RESOURCE_EXHAUSTED when the client falls behind, UNAVAILABLE at shutdown, and stop delivering
 * whenever the stream finishes.
 */
function subscription<Req, Res>(
  deps: StreamDeps,
  name: StreamName,
  prepare: (call: ServerWritableStream<Req, Res>) => Start<Res>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const out = new SubscriberStream<Res>(call, deps.streamBuffer, () => deps.metrics.slowConsumer(name));
    try {
      const start = prepare(call);
      const serving = deps.state.current();
      deps.metrics.streamOpened(name);
      out.onFinish(() => deps.metrics.streamClosed(name));
      out.onFinish(start(out, serving));
      out.onFinish(deps.liveCalls.register(() => out.fail(grpcError(status.UNAVAILABLE, 'the matching service is shutting down'))));
    } catch (err) {
      out.fail(deps.statuses.toServiceError(err, call.getPath()));
    }
  };
}
