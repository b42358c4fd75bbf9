import type { ListOrdersQuery } from '@orderbook/engine';
import { matching } from '@orderbook/proto';
import type { CommandInput } from '../loop/command-loop-api';
import { checkFields } from '@orderbook/server-kit';
import type { MarketDirectory } from './markets';
import { decodePageToken } from './page-token';
import * as valid from './validation';

/**
 * Requests turned into what the engine takes: every field checked (INVALID_ARGUMENT with a
 * BadRequest violation per bad field), the acting user always the token's subject, never a request field.
 */

export type PlaceLimitInput = Extract<CommandInput, { kind: 'placeLimit' }>;
export type PlaceMarketInput = Extract<CommandInput, { kind: 'placeMarket' }>;
export type CancelInput = Extract<CommandInput, { kind: 'cancel' }>;
export type DepositInput = Extract<CommandInput, { kind: 'deposit' }>;
export type AmendInput = Extract<CommandInput, { kind: 'amend' }>;
export type CancelAllInput = Extract<CommandInput, { kind: 'cancelAll' }>;
export type PlaceOcoInput = Extract<CommandInput, { kind: 'placeOco' }>;

function withClientOrderId(clientOrderId: string | undefined): { clientOrderId?: string } {
  return clientOrderId === undefined ? {} : { clientOrderId };
}

/** An optional price field: empty means none. */
const optionalPrice = (text: string, field: string): bigint | undefined => (text === '' ? undefined : valid.price(text, field));

function withStopPrice(stopPrice: bigint | undefined): { stopPrice?: bigint } {
  return stopPrice === undefined ? {} : { stopPrice };
}

export function placeLimitInput(req: matching.PlaceLimitOrderRequest, userId: string, markets: MarketDirectory): PlaceLimitInput {
  const { clientOrderId, ...fields } = checkFields({
    market: () => valid.market(req.market, markets),
    side: () => valid.side(req.side),
    price: () => valid.price(req.price),
    quantity: () => valid.quantity(req.quantity),
    timeInForce: () => valid.timeInForce(req.timeInForce),
    selfTradePrevention: () => valid.selfTradePrevention(req.selfTradePrevention),
    clientOrderId: () => valid.clientOrderId(req.clientOrderId),
    stopPrice: () => optionalPrice(req.stopPrice, 'stop_price'),
  });
  const { stopPrice, ...rest } = fields;
  return { kind: 'placeLimit', userId, ...rest, postOnly: req.postOnly, ...withClientOrderId(clientOrderId), ...withStopPrice(stopPrice) };
}

export function placeMarketInput(req: matching.PlaceMarketOrderRequest, userId: string, markets: MarketDirectory): PlaceMarketInput {
  const { clientOrderId, ...fields } = checkFields({
    market: () => valid.market(req.market, markets),
    side: () => valid.side(req.side),
    quantity: () => valid.quantity(req.quantity),
    selfTradePrevention: () => valid.selfTradePrevention(req.selfTradePrevention),
    clientOrderId: () => valid.clientOrderId(req.clientOrderId),
    stopPrice: () => optionalPrice(req.stopPrice, 'stop_price'),
  });
  const { stopPrice, ...rest } = fields;
  return { kind: 'placeMarket', userId, ...rest, ...withClientOrderId(clientOrderId), ...withStopPrice(stopPrice) };
}

/** A one-cancels-other pair; an empty stop_limit_price makes its stop a stop-market. */
export function placeOcoInput(req: matching.PlaceOcoOrderRequest, userId: string, markets: MarketDirectory): PlaceOcoInput {
  const { stopLimitPrice, ...fields } = checkFields({
    market: () => valid.market(req.market, markets),
    side: () => valid.side(req.side),
    quantity: () => valid.quantity(req.quantity),
    price: () => valid.price(req.price),
    stopPrice: () => valid.price(req.stopPrice, 'stop_price'),
    stopLimitPrice: () => optionalPrice(req.stopLimitPrice, 'stop_limit_price'),
    selfTradePrevention: () => valid.selfTradePrevention(req.selfTradePrevention),
  });
  return { kind: 'placeOco', userId, ...fields, ...(stopLimitPrice === undefined ? {} : { stopLimitPrice }) };
}

/** The order a cancel or amendment names: by order_id or by client_order_id, exactly one of them. */
function orderNamed(req: { readonly orderId: bigint; readonly clientOrderId: string }): { orderId: number; clientOrderId?: string } {
  const clientOrderId = valid.clientOrderId(req.clientOrderId);
  if (clientOrderId === undefined) return { orderId: valid.orderId(req.orderId) };
  if (req.orderId !== 0n) throw valid.invalidArgument('client_order_id', 'give order_id or client_order_id, not both');
  return { orderId: 0, clientOrderId };
}

export function cancelInput(req: matching.CancelOrderRequest, userId: string): CancelInput {
  return { kind: 'cancel', userId, ...orderNamed(req) };
}

/** Every open order of the caller, or of one market and/or side (SIDE_UNSPECIFIED: both). */
export function cancelAllInput(req: matching.CancelAllOrdersRequest, userId: string, markets: MarketDirectory): CancelAllInput {
  const { market, side } = checkFields({
    market: () => valid.marketFilter(req.market, markets),
    side: () => (req.side === matching.Side.SIDE_UNSPECIFIED ? undefined : valid.side(req.side)),
  });
  return { kind: 'cancelAll', userId, ...(market === undefined ? {} : { market }), ...(side === undefined ? {} : { side }) };
}

/** A new price, a new quantity, or both (an empty field keeps the order's). */
export function amendInput(req: matching.AmendOrderRequest, userId: string): AmendInput {
  const { order, price, quantity } = checkFields({
    order: () => orderNamed(req),
    price: () => (req.price === '' ? undefined : valid.price(req.price)),
    quantity: () => (req.quantity === '' ? undefined : valid.quantity(req.quantity)),
  });
  if (price === undefined && quantity === undefined) throw valid.invalidArgument('quantity', 'give a new price, a new quantity or both');
  return { kind: 'amend', userId, ...order, ...(price === undefined ? {} : { price }), ...(quantity === undefined ? {} : { quantity }) };
}

export function depositInput(req: matching.AddFundsRequest, markets: MarketDirectory): DepositInput {
  const { requestId, ...fields } = checkFields({
    userId: () => valid.userId(req.userId),
    asset: () => valid.asset(req.asset, markets),
    amount: () => valid.amount(req.amount),
    requestId: () => valid.clientOrderId(req.requestId, 'request_id'),
  });
  return { kind: 'deposit', ...fields, ...(requestId === undefined ? {} : { requestId }) };
}

export interface ListOrdersPage {
  readonly pageSize: number;
  /** Asks for one order more than a page, to know whether another page follows. */
  readonly query: ListOrdersQuery;
}

export function listOrdersPage(req: matching.ListOrdersRequest, markets: MarketDirectory): ListOrdersPage {
  const pageSize = valid.pageSize(req.pageSize);
  const market = valid.marketFilter(req.market, markets);
  const beforeOrderId = decodePageToken(req.pageToken);
  return {
    pageSize,
    query: {
      openOnly: valid.openOnly(req.status),
      limit: pageSize + 1,
      ...(market === undefined ? {} : { market }),
      ...(beforeOrderId === undefined ? {} : { beforeOrderId }),
    },
  };
}

export interface BookQuery {
  readonly market: string;
  readonly depth: number;
}

export function bookQuery(req: { readonly market: string; readonly depth: number }, markets: MarketDirectory): BookQuery {
  return { market: valid.market(req.market, markets), depth: valid.depth(req.depth) };
}
