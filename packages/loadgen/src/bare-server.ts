import * as grpc from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';

/**
 * The physical limit beside the real service: a grpc-js server for the same order-entry methods
 * and message types that answers each request at once with a response of the real one's shape and
 * size (an order built from the request; one trade for IOC and market orders, as they would have
 * filled) — no authentication, no engine, no journal. What the load generator reaches against it
 * is the ceiling that grpc-js and this machine allow; the real service is reported as a ratio of it.
 *
 * Run as a script it listens on 127.0.0.1:BARE_PORT (0 picks a free port) and prints {"port":N}
 * on stdout once it accepts calls; SIGTERM stops it.
 */

const LOCKED = '9.87654321';

function trade(orderId: bigint, market: string, side: matching.Side, price: string, quantity: string, now: bigint): matching.Trade {
  return {
    tradeId: orderId,
    market,
    price,
    quantity,
    quoteAmount: LOCKED,
    makerOrderId: orderId - 1n,
    takerOrderId: orderId,
    takerSide: side,
    executedAtUnixMs: now,
    sequence: orderId,
    makerFee: '',
    makerFeeAsset: '',
    takerFee: '0',
    takerFeeAsset: feeAsset(market, side),
  };
}

/** What a side receives in a BASE-QUOTE market, as the service names it: base for a buy, quote for a sell. */
function feeAsset(market: string, side: matching.Side): string {
  const [base = '', quote = ''] = market.split('-');
  return side === matching.Side.SIDE_SELL ? quote : base;
}

/** What a placement's canned order takes from its request. */
type Placement = Pick<matching.PlaceLimitOrderRequest, 'clientOrderId' | 'market' | 'side' | 'quantity' | 'selfTradePrevention'>;

/** The order a placement answers with: as requested, either resting untouched or filled at once. */
function placedOrder(
  request: Placement,
  orderId: bigint,
  now: bigint,
  shape: Pick<matching.Order, 'type' | 'price' | 'timeInForce' | 'postOnly'> & { readonly rests: boolean },
): matching.Order {
  const { rests, ...fields } = shape;
  return {
    orderId,
    clientOrderId: request.clientOrderId,
    market: request.market,
    side: request.side,
    ...fields,
    quantity: request.quantity,
    filledQuantity: rests ? '0' : request.quantity,
    remainingQuantity: rests ? request.quantity : '0',
    status: rests ? matching.OrderStatus.ORDER_STATUS_OPEN : matching.OrderStatus.ORDER_STATUS_FILLED,
    selfTradePrevention: request.selfTradePrevention,
    createdAtUnixMs: now,
    updatedAtUnixMs: now,
    lockedAmount: rests ? LOCKED : '0',
    expireAtUnixMs: 0n,
    stopPrice: '',
    ocoOrderId: 0n,
    feesPaid: '0',
    feeAsset: feeAsset(request.market, request.side),
    cancelReason: matching.CancelReason.CANCEL_REASON_UNSPECIFIED,
  };
}

export function cannedLimitResponse(request: matching.PlaceLimitOrderRequest, orderId: bigint): matching.PlaceLimitOrderResponse {
  const now = BigInt(Date.now());
  const rests = request.timeInForce !== matching.TimeInForce.TIME_IN_FORCE_IOC && request.timeInForce !== matching.TimeInForce.TIME_IN_FORCE_FOK;
  const shape = { type: matching.OrderType.ORDER_TYPE_LIMIT, price: request.price, timeInForce: request.timeInForce, postOnly: request.postOnly, rests };
  return {
    order: placedOrder(request, orderId, now, shape),
    trades: rests ? [] : [trade(orderId, request.market, request.side, request.price, request.quantity, now)],
  };
}

export function cannedMarketResponse(request: matching.PlaceMarketOrderRequest, orderId: bigint): matching.PlaceMarketOrderResponse {
  const now = BigInt(Date.now());
  const shape = { type: matching.OrderType.ORDER_TYPE_MARKET, price: '', timeInForce: matching.TimeInForce.TIME_IN_FORCE_UNSPECIFIED, postOnly: false, rests: false };
  return {
    order: placedOrder(request, orderId, now, shape),
    trades: [trade(orderId, request.market, request.side, '100.01', request.quantity, now)],
  };
}

export function cannedCancelResponse(request: matching.CancelOrderRequest): matching.CancelOrderResponse {
  const now = BigInt(Date.now());
  return {
    order: {
      orderId: request.orderId,
      clientOrderId: '',
      market: 'BTC-USD',
      side: matching.Side.SIDE_BUY,
      type: matching.OrderType.ORDER_TYPE_LIMIT,
      price: '99.75',
      quantity: '0.042',
      filledQuantity: '0',
      remainingQuantity: '0.042',
      status: matching.OrderStatus.ORDER_STATUS_CANCELLED,
      timeInForce: matching.TimeInForce.TIME_IN_FORCE_GTC,
      postOnly: false,
      selfTradePrevention: matching.SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
      createdAtUnixMs: now,
      updatedAtUnixMs: now,
      lockedAmount: '0',
      expireAtUnixMs: 0n,
      stopPrice: '',
      ocoOrderId: 0n,
      feesPaid: '0',
      feeAsset: 'BTC',
      cancelReason: matching.CancelReason.CANCEL_REASON_USER,
    },
    releasedAmount: '4.1895',
    releasedAsset: 'USD',
  };
}

/** What a trader of the bench holds: one balance per asset of the three default markets. */
const CANNED_BALANCES: matching.GetBalancesResponse = {
  balances: ['BTC', 'ETH', 'SOL', 'USD'].map((asset) => ({ asset, available: asset === 'USD' ? '9999990.25' : '99999.5', locked: '0.001' })),
};

/** The order-entry methods and the two reads of the sequential phase, with canned answers; the other methods are left UNIMPLEMENTED. */
function bareImplementation(): grpc.UntypedServiceImplementation {
  let lastOrderId = 0n;
  const placeLimitOrder: grpc.handleUnaryCall<matching.PlaceLimitOrderRequest, matching.PlaceLimitOrderResponse> = (call, callback) =>
    callback(null, cannedLimitResponse(call.request, ++lastOrderId));
  const placeMarketOrder: grpc.handleUnaryCall<matching.PlaceMarketOrderRequest, matching.PlaceMarketOrderResponse> = (call, callback) =>
    callback(null, cannedMarketResponse(call.request, ++lastOrderId));
  const cancelOrder: grpc.handleUnaryCall<matching.CancelOrderRequest, matching.CancelOrderResponse> = (call, callback) =>
    callback(null, cannedCancelResponse(call.request));
  const orderSession: grpc.handleBidiStreamingCall<matching.OrderSessionRequest, matching.OrderSessionResponse> = (call) => {
    call.on('data', (request: matching.OrderSessionRequest) => {
      const { requestId } = request;
      if (request.placeLimitOrder !== undefined) call.write({ requestId, placeLimitOrder: cannedLimitResponse(request.placeLimitOrder, ++lastOrderId) });
      else if (request.placeMarketOrder !== undefined) call.write({ requestId, placeMarketOrder: cannedMarketResponse(request.placeMarketOrder, ++lastOrderId) });
      else if (request.cancelOrder !== undefined) call.write({ requestId, cancelOrder: cannedCancelResponse(request.cancelOrder) });
      else call.write({ requestId, error: { code: grpc.status.INVALID_ARGUMENT, message: 'command: one of place_limit_order, place_market_order, cancel_order is required', status: undefined } });
    });
    call.on('end', () => call.end());
  };
  const getBalances: grpc.handleUnaryCall<matching.GetBalancesRequest, matching.GetBalancesResponse> = (_call, callback) => callback(null, CANNED_BALANCES);
  const getOrderBook: grpc.handleUnaryCall<matching.GetOrderBookRequest, matching.GetOrderBookResponse> = (call, callback) =>
    // The sequential phase reads our book while it is empty: so is this one.
    callback(null, { market: call.request.market, bids: [], asks: [], sequence: 0n });
  return { placeLimitOrder, placeMarketOrder, cancelOrder, orderSession, getBalances, getOrderBook };
}

export interface BareServer {
  readonly port: number;
  stop(): Promise<void>;
}

export async function startBareServer(port: number): Promise<BareServer> {
  const server = new grpc.Server();
  server.addService(matching.MatchingServiceService, bareImplementation());
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, actual) => (err ? reject(err) : resolve(actual))),
  );
  return {
    port: bound,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

if (require.main === module) {
  startBareServer(Number(process.env['BARE_PORT'] ?? '0')).then(
    (bare) => {
      process.stdout.write(`${JSON.stringify({ port: bare.port })}\n`);
      process.on('SIGTERM', () => void bare.stop().then(() => process.exit(0)));
    },
    (err: unknown) => {
      process.stderr.write(`bare-server: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
