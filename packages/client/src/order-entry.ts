import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';
import { OrderbookError } from './errors';
import { leaderAddressOf, type MatchingChannels } from './leader';
import { isRetryable, withRetries, type RetryClock, type RetryPolicy } from './retry';
import { bearer, callUnary, type UnaryMethod } from './unary';

/** What a placement returns. */
export interface PlacedOrder {
  readonly order: matching.Order;
  /** The fills of this placement; empty when `recovered` (see the order's filled_quantity). */
  readonly trades: readonly matching.Trade[];
  /**
   * True when an earlier attempt had placed the order but its answer was lost: the retry found it
   * by its client_order_id (ALREADY_EXISTS) and this is the order as it is now.
   */
  readonly recovered: boolean;
}

export interface CancelledOrder {
  readonly order: matching.Order;
  /** Empty when `recovered`. */
  readonly releasedAmount: string;
  readonly releasedAsset: string;
  /** True when an earlier attempt had cancelled the order but its answer was lost. */
  readonly recovered: boolean;
}

/** A limit order to place; client_order_id is made up when not given. */
export type LimitOrder = matching.DeepPartial<matching.PlaceLimitOrderRequest> & Pick<matching.PlaceLimitOrderRequest, 'market' | 'side' | 'price' | 'quantity'>;
export type MarketOrder = matching.DeepPartial<matching.PlaceMarketOrderRequest> & Pick<matching.PlaceMarketOrderRequest, 'market' | 'side' | 'quantity'>;

export interface OrderEntryContext {
  readonly channels: MatchingChannels;
  readonly accessToken: () => Promise<string>;
  readonly policy: RetryPolicy;
  readonly clock: RetryClock;
  readonly deadlineMs: number;
}

/** What both placement RPCs answer. */
type PlacementAnswer = Pick<matching.PlaceLimitOrderResponse, 'order' | 'trades'>;

/** A new idempotency key: printable ASCII, well under the contract's 64 characters. */
export const newClientOrderId = (): string => randomUUID();

/** A write that the service refused because it is not the leader was not carried out: always safe to send again. */
const refusedByFollower = (err: unknown): boolean => leaderAddressOf(err) !== undefined;

/**
 * Order entry with safe retries. A placement carries a client_order_id, so a repeat after a lost
 * answer (UNAVAILABLE, DEADLINE_EXCEEDED) cannot place twice: the service answers ALREADY_EXISTS,
 * and the order that the first attempt placed is looked up and returned. Every write follows the
 * leader named by a follower's NOT_LEADER refusal.
 */
export class OrderEntry {
  constructor(private readonly context: OrderEntryContext) {}

  placeLimitOrder(order: LimitOrder): Promise<PlacedOrder> {
    const request = matching.PlaceLimitOrderRequest.fromPartial({ ...order, clientOrderId: order.clientOrderId || newClientOrderId() });
    return this.place(request.market, request.clientOrderId, (client) => [client.placeLimitOrder, request]);
  }

  placeMarketOrder(order: MarketOrder): Promise<PlacedOrder> {
    const request = matching.PlaceMarketOrderRequest.fromPartial({ ...order, clientOrderId: order.clientOrderId || newClientOrderId() });
    return this.place(request.market, request.clientOrderId, (client) => [client.placeMarketOrder, request]);
  }

  /** Cancels an open order; a repeat that finds it already cancelled returns it (recovered). */
  cancelOrder(orderId: bigint): Promise<CancelledOrder> {
    return this.write(async (client, attempt) => {
      try {
        const answer = await this.call(client, client.cancelOrder, { orderId });
        return { order: required(answer.order), releasedAmount: answer.releasedAmount, releasedAsset: answer.releasedAsset, recovered: false };
      } catch (err) {
        if (attempt === 1 || !(err instanceof OrderbookError) || err.code !== status.FAILED_PRECONDITION) throw err;
        const { order } = await this.call(client, client.getOrder, { orderId });
        if (order?.status !== matching.OrderStatus.ORDER_STATUS_CANCELLED) throw err;
        return { order, releasedAmount: '', releasedAsset: '', recovered: true };
      }
    }, isRetryable);
  }

  /** Credits a user (admin role). Not idempotent: repeated only after a follower refused it. */
  async addFunds(request: matching.AddFundsRequest): Promise<matching.AddFundsResponse> {
    return this.write((client) => this.call(client, client.addFunds, request), refusedByFollower);
  }

  /** The caller's order with this client_order_id, searched newest first on the leader. */
  async findByClientOrderId(market: string, clientOrderId: string): Promise<matching.Order | undefined> {
    const client = this.context.channels.writes;
    let pageToken = '';
    do {
      const page = await this.call(client, client.listOrders, { market, status: matching.OrderStatusFilter.ORDER_STATUS_FILTER_ALL, pageSize: 1000, pageToken });
      const found = page.orders.find((o) => o.clientOrderId === clientOrderId);
      if (found !== undefined) return found;
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    return undefined;
  }

  private place<Req>(
    market: string,
    clientOrderId: string,
    method: (client: matching.MatchingServiceClient) => readonly [UnaryMethod<Req, PlacementAnswer>, Req],
  ): Promise<PlacedOrder> {
    return this.write(async (client, attempt) => {
      try {
        const [rpc, request] = method(client);
        const answer = await this.call(client, rpc, request);
        return { order: required(answer.order), trades: answer.trades, recovered: false };
      } catch (err) {
        // ALREADY_EXISTS on the first attempt is the caller's own reuse of an id: theirs to handle.
        if (attempt === 1 || !(err instanceof OrderbookError) || err.code !== status.ALREADY_EXISTS) throw err;
        const order = await this.findByClientOrderId(market, clientOrderId);
        if (order === undefined) throw err;
        return { order, trades: [], recovered: true };
      }
    }, isRetryable);
  }

  private write<T>(run: (client: matching.MatchingServiceClient, attempt: number) => Promise<T>, retryable: (err: unknown) => boolean): Promise<T> {
    const { channels, policy, clock } = this.context;
    return withRetries(
      policy,
      clock,
      (attempt) => run(channels.writes, attempt),
      (err) => {
        channels.follow(err);
        return retryable(err);
      },
    );
  }

  private async call<Req, Res>(client: matching.MatchingServiceClient, method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
    return callUnary(client, method, request, bearer(await this.context.accessToken()), this.context.deadlineMs);
  }
}

function required(order: matching.Order | undefined): matching.Order {
  if (order === undefined) throw new OrderbookError(status.INTERNAL, 'the service answered without the order');
  return order;
}
