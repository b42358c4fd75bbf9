import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';
import { OrderbookError } from './errors';
import type { MatchingChannels } from './leader';
import { isRetryable, withRetries, type RetryClock, type RetryPolicy } from './retry';
import { bearer, callUnary, type UnaryMethod } from './unary';

/**
 * What a placement returns. When a retry reached an order that an earlier attempt had placed, it is
 * that order as it is now, with the fills it made when placed.
 */
export interface PlacedOrder {
  readonly order: matching.Order;
  readonly trades: readonly matching.Trade[];
}

/** What a cancel returns; releasedAmount is "0" when an earlier attempt had cancelled the order. */
export interface CancelledOrder {
  readonly order: matching.Order;
  readonly releasedAmount: string;
  readonly releasedAsset: string;
}

/** A limit order to place; client_order_id is made up when not given. */
export type LimitOrder = matching.DeepPartial<matching.PlaceLimitOrderRequest> & Pick<matching.PlaceLimitOrderRequest, 'market' | 'side' | 'price' | 'quantity'>;
export type MarketOrder = matching.DeepPartial<matching.PlaceMarketOrderRequest> & Pick<matching.PlaceMarketOrderRequest, 'market' | 'side' | 'quantity'>;
/** A one-cancels-other pair to place; stopLimitPrice makes its stop a stop-limit; client_order_id is made up when not given. */
export type OcoOrder = matching.DeepPartial<matching.PlaceOcoOrderRequest> &
  Pick<matching.PlaceOcoOrderRequest, 'market' | 'side' | 'quantity' | 'price' | 'stopPrice'>;

/** What placing a pair returns: its limit order (with the trades it made on arrival) and its stop. */
export interface PlacedOco extends PlacedOrder {
  readonly stopOrder: matching.Order;
}

export interface OrderEntryContext {
  readonly channels: MatchingChannels;
  readonly accessToken: () => Promise<string>;
  readonly policy: RetryPolicy;
  readonly clock: RetryClock;
  readonly deadlineMs: number;
}

/** What both placement RPCs answer. */
type PlacementAnswer = Pick<matching.PlaceLimitOrderResponse, 'order' | 'trades'>;

/** A new idempotency key (client_order_id, request_id): printable ASCII, well under the contract's 64 characters. */
export const newClientOrderId = (): string => randomUUID();

/**
 * Order entry with safe retries (AIP-155). A placement carries a client_order_id and a deposit a
 * request_id, so a repeat after a lost answer (UNAVAILABLE, DEADLINE_EXCEEDED) cannot place or
 * credit twice: the service answers it with what the first attempt did. A repeated cancel gets
 * the cancelled order. Every write follows the leader named by a follower's NOT_LEADER refusal.
 */
export class OrderEntry {
  constructor(private readonly context: OrderEntryContext) {}

  placeLimitOrder(order: LimitOrder): Promise<PlacedOrder> {
    const request = matching.PlaceLimitOrderRequest.fromPartial({ ...order, clientOrderId: order.clientOrderId || newClientOrderId() });
    return this.place((client) => [client.placeLimitOrder, request]);
  }

  placeMarketOrder(order: MarketOrder): Promise<PlacedOrder> {
    const request = matching.PlaceMarketOrderRequest.fromPartial({ ...order, clientOrderId: order.clientOrderId || newClientOrderId() });
    return this.place((client) => [client.placeMarketOrder, request]);
  }

  /** Places a one-cancels-other pair; its limit order carries the client_order_id, made up when not given. */
  placeOcoOrder(pair: OcoOrder): Promise<PlacedOco> {
    const request = matching.PlaceOcoOrderRequest.fromPartial({ ...pair, clientOrderId: pair.clientOrderId || newClientOrderId() });
    return this.write(async (client) => {
      const answer = await this.call(client, client.placeOcoOrder, request);
      return { order: required(answer.order), stopOrder: required(answer.stopOrder), trades: answer.trades };
    });
  }

  /** Cancels an open order; a repeat after a lost answer gets the cancelled order (nothing more released). */
  cancelOrder(orderId: bigint): Promise<CancelledOrder> {
    return this.write(async (client) => {
      const answer = await this.call(client, client.cancelOrder, matching.CancelOrderRequest.fromPartial({ orderId }));
      return { order: required(answer.order), releasedAmount: answer.releasedAmount, releasedAsset: answer.releasedAsset };
    });
  }

  /** Cancels all of the caller's open orders (or one market's, one side's); a repeat finds nothing more to cancel. */
  cancelAllOrders(request: matching.DeepPartial<matching.CancelAllOrdersRequest> = {}): Promise<matching.CancelAllOrdersResponse> {
    const full = matching.CancelAllOrdersRequest.fromPartial(request);
    return this.write((client) => this.call(client, client.cancelAllOrders, full));
  }

  /**
   * Arms (or renews) the dead-man switch: all of the caller's open orders are cancelled
   * timeoutSeconds from now unless called again first; 0 disarms it. A repeat after a lost answer
   * sets the deadline again from the repeat's time, which a renewal does anyway.
   */
  cancelAllOrdersAfter(timeoutSeconds: number): Promise<matching.CancelAllOrdersAfterResponse> {
    const request = matching.CancelAllOrdersAfterRequest.fromPartial({ timeoutSeconds });
    return this.write((client) => this.call(client, client.cancelAllOrdersAfter, request));
  }

  /**
   * Amends an open order to a new price and/or quantity. The targets are absolute, so a repeat
   * after a lost answer asks for what is already there: it changes no price, quantity or lock.
   */
  amendOrder(request: matching.DeepPartial<matching.AmendOrderRequest>): Promise<PlacedOrder> {
    const full = matching.AmendOrderRequest.fromPartial(request);
    return this.write(async (client) => {
      const answer = await this.call(client, client.amendOrder, full);
      return { order: required(answer.order), trades: answer.trades };
    });
  }

  /** Credits a user (admin role); request_id is made up when not given, so that a retry credits once. */
  addFunds(request: matching.DeepPartial<matching.AddFundsRequest>): Promise<matching.AddFundsResponse> {
    const withId = matching.AddFundsRequest.fromPartial({ ...request, requestId: request.requestId || newClientOrderId() });
    return this.write((client) => this.call(client, client.addFunds, withId));
  }

  /**
   * Debits a user's available funds (admin role); request_id is made up when not given, so that a
   * retry debits once.
   */
  withdrawFunds(request: matching.DeepPartial<matching.WithdrawFundsRequest>): Promise<matching.WithdrawFundsResponse> {
    const withId = matching.WithdrawFundsRequest.fromPartial({ ...request, requestId: request.requestId || newClientOrderId() });
    return this.write((client) => this.call(client, client.withdrawFunds, withId));
  }

  private place<Req>(method: (client: matching.MatchingServiceClient) => readonly [UnaryMethod<Req, PlacementAnswer>, Req]): Promise<PlacedOrder> {
    return this.write(async (client) => {
      const [rpc, request] = method(client);
      const answer = await this.call(client, rpc, request);
      return { order: required(answer.order), trades: answer.trades };
    });
  }

  /** Every write is idempotent: a retryable failure (a follower's NOT_LEADER too) is sent again, to the leader if one was named. */
  private write<T>(run: (client: matching.MatchingServiceClient) => Promise<T>): Promise<T> {
    const { channels, policy, clock } = this.context;
    return withRetries(
      policy,
      clock,
      () => run(channels.writes),
      (err) => {
        channels.follow(err);
        return isRetryable(err);
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
