import type { LedgerQuery, ListFillsQuery, ListOrdersQuery } from '@orderbook/engine';
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
export type CancelAllAfterInput = Extract<CommandInput, { kind: 'cancelAllAfter' }>;
export type PlaceOcoInput = Extract<CommandInput, { kind: 'placeOco' }>;
export type WithdrawInput = Extract<CommandInput, { kind: 'withdraw' }>;

/**
 * `input` with `field` set when it has a value. Inputs are built as literals with optional fields
 * added after, never as `{ ...fields, more }`: in Node 20's V8 a spread followed by more fields
 * gives every object a hidden class of its own (microseconds per order, and megamorphic readers).
 */
function withOptional<T extends object, K extends string, V>(input: T, field: K, value: V | undefined): T & { [P in K]?: V } {
  return value === undefined ? input : Object.assign(input, { [field]: value } as { [P in K]: V });
}

/** An optional price field: empty means none. */
const optionalPrice = (text: string, field: string): bigint | undefined => (text === '' ? undefined : valid.price(text, field));

export function placeLimitInput(req: matching.PlaceLimitOrderRequest, userId: string, markets: MarketDirectory): PlaceLimitInput {
  const fields = checkFields({
    market: () => valid.market(req.market, markets),
    side: () => valid.side(req.side),
    price: () => valid.price(req.price),
    quantity: () => valid.quantity(req.quantity),
    timeInForce: () => valid.timeInForce(req.timeInForce),
    selfTradePrevention: () => valid.selfTradePrevention(req.selfTradePrevention),
    clientOrderId: () => valid.clientOrderId(req.clientOrderId),
    expireAt: () => valid.expireAt(req.expireAtUnixMs),
    stopPrice: () => optionalPrice(req.stopPrice, 'stop_price'),
  });
  const { market, side, price, quantity, timeInForce, selfTradePrevention } = fields;
  const input = withOptional(
    { kind: 'placeLimit' as const, userId, market, side, price, quantity, timeInForce, selfTradePrevention, postOnly: req.postOnly },
    'clientOrderId',
    fields.clientOrderId,
  );
  return withOptional(withOptional(input, 'expireAt', fields.expireAt), 'stopPrice', fields.stopPrice);
}

export function placeMarketInput(req: matching.PlaceMarketOrderRequest, userId: string, markets: MarketDirectory): PlaceMarketInput {
  const fields = checkFields({
    market: () => valid.market(req.market, markets),
    side: () => valid.side(req.side),
    quantity: () => valid.quantity(req.quantity),
    selfTradePrevention: () => valid.selfTradePrevention(req.selfTradePrevention),
    clientOrderId: () => valid.clientOrderId(req.clientOrderId),
    stopPrice: () => optionalPrice(req.stopPrice, 'stop_price'),
  });
  const { market, side, quantity, selfTradePrevention } = fields;
  const input = withOptional({ kind: 'placeMarket' as const, userId, market, side, quantity, selfTradePrevention }, 'clientOrderId', fields.clientOrderId);
  return withOptional(input, 'stopPrice', fields.stopPrice);
}

/** A one-cancels-other pair; an empty stop_limit_price makes its stop a stop-market. Its limit order carries client_order_id. */
export function placeOcoInput(req: matching.PlaceOcoOrderRequest, userId: string, markets: MarketDirectory): PlaceOcoInput {
  const fields = checkFields({
    market: () => valid.market(req.market, markets),
    side: () => valid.side(req.side),
    quantity: () => valid.quantity(req.quantity),
    price: () => valid.price(req.price),
    stopPrice: () => valid.price(req.stopPrice, 'stop_price'),
    stopLimitPrice: () => optionalPrice(req.stopLimitPrice, 'stop_limit_price'),
    selfTradePrevention: () => valid.selfTradePrevention(req.selfTradePrevention),
    clientOrderId: () => valid.clientOrderId(req.clientOrderId),
  });
  const { market, side, quantity, price, stopPrice, selfTradePrevention } = fields;
  const input = withOptional({ kind: 'placeOco' as const, userId, market, side, quantity, price, stopPrice, selfTradePrevention }, 'stopLimitPrice', fields.stopLimitPrice);
  return withOptional(input, 'clientOrderId', fields.clientOrderId);
}

/** The order a cancel or amendment names: by order_id or by client_order_id, exactly one of them. */
function orderNamed(req: { readonly orderId: bigint; readonly clientOrderId: string }): { orderId: number; clientOrderId?: string } {
  const clientOrderId = valid.clientOrderId(req.clientOrderId);
  if (clientOrderId === undefined) return { orderId: valid.orderId(req.orderId) };
  if (req.orderId !== 0n) throw valid.invalidArgument('client_order_id', 'give order_id or client_order_id, not both');
  return { orderId: 0, clientOrderId };
}

export function cancelInput(req: matching.CancelOrderRequest, userId: string): CancelInput {
  const { orderId, clientOrderId } = orderNamed(req);
  return withOptional({ kind: 'cancel', userId, orderId }, 'clientOrderId', clientOrderId);
}

/** Every open order of the caller, or of one market and/or side (SIDE_UNSPECIFIED: both). */
export function cancelAllInput(req: matching.CancelAllOrdersRequest, userId: string, markets: MarketDirectory): CancelAllInput {
  const { market, side } = checkFields({
    market: () => valid.marketFilter(req.market, markets),
    side: () => (req.side === matching.Side.SIDE_UNSPECIFIED ? undefined : valid.side(req.side)),
  });
  return withOptional(withOptional({ kind: 'cancelAll', userId }, 'market', market), 'side', side);
}

export function cancelAllAfterInput(req: matching.CancelAllOrdersAfterRequest, userId: string): CancelAllAfterInput {
  return { kind: 'cancelAllAfter', userId, timeoutSeconds: valid.deadManTimeout(req.timeoutSeconds) };
}

/** A new price, a new quantity, or both (an empty field keeps the order's). */
export function amendInput(req: matching.AmendOrderRequest, userId: string): AmendInput {
  const { order, price, quantity } = checkFields({
    order: () => orderNamed(req),
    price: () => (req.price === '' ? undefined : valid.price(req.price)),
    quantity: () => (req.quantity === '' ? undefined : valid.quantity(req.quantity)),
  });
  if (price === undefined && quantity === undefined) throw valid.invalidArgument('quantity', 'give a new price, a new quantity or both');
  const named = withOptional({ kind: 'amend' as const, userId, orderId: order.orderId }, 'clientOrderId', order.clientOrderId);
  return withOptional(withOptional(named, 'price', price), 'quantity', quantity);
}

/** A deposit by `adminId`, the verified caller. */
export function depositInput(req: matching.AddFundsRequest, markets: MarketDirectory, adminId: string): DepositInput {
  const { userId, asset, amount, requestId, reference } = checkFields({
    userId: () => valid.fundsUserId(req.userId),
    asset: () => valid.asset(req.asset, markets),
    amount: () => valid.amount(req.amount),
    requestId: () => valid.clientOrderId(req.requestId, 'request_id'),
    reference: () => (req.reference === '' ? undefined : valid.reference(req.reference)),
  });
  return withOptional(withOptional({ kind: 'deposit', userId, asset, amount, adminId }, 'requestId', requestId), 'reference', reference);
}

/** A withdrawal by `adminId`, the verified caller. */
export function withdrawInput(req: matching.WithdrawFundsRequest, markets: MarketDirectory, adminId: string): WithdrawInput {
  const { userId, asset, amount, requestId, reference } = checkFields({
    userId: () => valid.fundsUserId(req.userId),
    asset: () => valid.asset(req.asset, markets),
    amount: () => valid.amount(req.amount),
    requestId: () => valid.clientOrderId(req.requestId, 'request_id'),
    reference: () => valid.reference(req.reference),
  });
  return withOptional({ kind: 'withdraw', userId, asset, amount, reference, adminId }, 'requestId', requestId);
}

export interface Page<Q> {
  readonly pageSize: number;
  /** Asks for one item more than a page, to know whether another page follows. */
  readonly query: Q;
}

export function listFillsPage(req: matching.ListTradesRequest, markets: MarketDirectory): Page<ListFillsQuery> {
  const { pageSize, market, from, to, beforeTradeId } = checkFields({
    pageSize: () => valid.pageSize(req.pageSize),
    market: () => valid.marketFilter(req.market, markets),
    from: () => valid.timeBound(req.startTimeUnixMs, 'start_time_unix_ms'),
    to: () => valid.timeBound(req.endTimeUnixMs, 'end_time_unix_ms'),
    beforeTradeId: () => decodePageToken(req.pageToken, 'page_token', 'ListTrades'),
  });
  if (from !== undefined && to !== undefined && to <= from) throw valid.invalidArgument('end_time_unix_ms', 'must be after start_time_unix_ms');
  return {
    pageSize,
    query: {
      limit: pageSize + 1,
      ...(market === undefined ? {} : { market }),
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      ...(beforeTradeId === undefined ? {} : { beforeTradeId }),
    },
  };
}

export function ledgerPage(req: matching.ListLedgerEntriesRequest): Page<LedgerQuery> & { readonly userId: string } {
  const { userId, pageSize, beforeSeq } = checkFields({
    userId: () => valid.fundsUserId(req.userId),
    pageSize: () => valid.pageSize(req.pageSize),
    beforeSeq: () => decodePageToken(req.pageToken, 'page_token', 'ListLedgerEntries'),
  });
  return { userId, pageSize, query: { limit: pageSize + 1, ...(beforeSeq === undefined ? {} : { beforeSeq }) } };
}

export interface ListOrdersPage {
  readonly pageSize: number;
  /** Asks for one order more than a page, to know whether another page follows. */
  readonly query: ListOrdersQuery;
}

export function listOrdersPage(req: matching.ListOrdersRequest, markets: MarketDirectory): ListOrdersPage {
  const pageSize = valid.pageSize(req.pageSize);
  const market = valid.marketFilter(req.market, markets);
  const beforeOrderId = decodePageToken(req.pageToken, 'page_token', 'ListOrders');
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
