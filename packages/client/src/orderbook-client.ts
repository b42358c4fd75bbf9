import { credentials as grpcCredentials, Metadata, status, type ChannelCredentials, type ClientOptions } from '@grpc/grpc-js';
import { auth, matching } from '@orderbook/proto';
import { OrderbookError } from './errors';
import { MatchingChannels } from './leader';
import { LiveOrderBook, type LiveOrderBookOptions } from './live-order-book';
import { OrderEntry, type CancelledOrder, type LimitOrder, type MarketOrder, type OcoOrder, type PlacedOco, type PlacedOrder } from './order-entry';
import { DEFAULT_RETRY_POLICY, isRetryable, realClock, withRetries, type RetryClock, type RetryPolicy } from './retry';
import { iterate } from './streams';
import { TokenKeeper, type SignInOptions } from './token-keeper';
import { bearer, callUnary, type UnaryMethod } from './unary';

export interface OrderbookClientOptions {
  /** host:port of the auth service. */
  readonly authAddress: string;
  /** host:port of a matching replica: reads and streams go there, writes to the leader. */
  readonly matchingAddress: string;
  /** Default: insecure (plaintext), as the services run without TLS configured. */
  readonly credentials?: ChannelCredentials;
  /** Options of the matching channels (keepalive, interceptors, ...). */
  readonly channelOptions?: Partial<ClientOptions>;
  /** Deadline of each attempt of a unary call (default 10 s). */
  readonly deadlineMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Refresh the access token this long before it expires (default 60 s, at most a third of its lifetime). */
  readonly refreshAheadMs?: number;
  /** Randomness and sleeping of the retries (tests). */
  readonly clock?: RetryClock;
  /** The wall clock for token expiry (tests). */
  readonly now?: () => number;
}

/**
 * A typed client of the auth and matching services: sign-in with tokens kept fresh, order entry
 * that never places twice, reads retried with backoff, a live order book, and streams of trades
 * and of the caller's order updates.
 */
export class OrderbookClient {
  readonly tokens: TokenKeeper;
  readonly orders: OrderEntry;
  private readonly auth: auth.AuthServiceClient;
  private readonly channels: MatchingChannels;
  private readonly policy: RetryPolicy;
  private readonly clock: RetryClock;
  private readonly deadlineMs: number;

  constructor(options: OrderbookClientOptions) {
    const credentials = options.credentials ?? grpcCredentials.createInsecure();
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.clock = options.clock ?? realClock;
    this.deadlineMs = options.deadlineMs ?? 10_000;
    this.auth = new auth.AuthServiceClient(options.authAddress, credentials);
    this.channels = new MatchingChannels(options.matchingAddress, credentials, options.channelOptions);
    const authCall = <Req, Res>(method: UnaryMethod<Req, Res>, request: Req, retried: boolean): Promise<Res> => {
      const once = (): Promise<Res> => callUnary(this.auth, method, request, new Metadata(), this.deadlineMs);
      return retried ? withRetries(this.policy, this.clock, once) : once();
    };
    this.tokens = new TokenKeeper(
      {
        // A repeated sign-in at worst opens a second session; RefreshToken answers a repeat within
        // its reuse grace with the same pair; SignOut is idempotent.
        signIn: (request) => authCall(this.auth.signIn, request, true),
        completeSignIn: (request) => authCall(this.auth.completeSignIn, request, false),
        refreshToken: (request) => authCall(this.auth.refreshToken, request, true),
        signOut: (request) => authCall(this.auth.signOut, request, true),
      },
      { ...(options.refreshAheadMs === undefined ? {} : { refreshAheadMs: options.refreshAheadMs }), ...(options.now === undefined ? {} : { now: options.now }) },
    );
    this.orders = new OrderEntry({ channels: this.channels, accessToken: () => this.tokens.accessToken(), policy: this.policy, clock: this.clock, deadlineMs: this.deadlineMs });
  }

  /** Where writes go now: the configured address, or the leader a follower pointed to. */
  get leaderAddress(): string {
    return this.channels.leaderAddress;
  }

  /** Creates a user (not repeated: a repeat after a lost answer would find the name taken). */
  async signUp(request: auth.SignUpRequest): Promise<auth.User> {
    const { user } = await callUnary(this.auth, this.auth.signUp, request, new Metadata(), this.deadlineMs);
    if (user === undefined) throw new OrderbookError(status.INTERNAL, 'SignUp returned no user');
    return user;
  }

  signIn(options: SignInOptions): Promise<auth.User> {
    return this.tokens.signIn(options);
  }

  signOut(): Promise<void> {
    return this.tokens.signOut();
  }

  placeLimitOrder(order: LimitOrder): Promise<PlacedOrder> {
    return this.orders.placeLimitOrder(order);
  }

  placeMarketOrder(order: MarketOrder): Promise<PlacedOrder> {
    return this.orders.placeMarketOrder(order);
  }

  /** See OrderEntry.placeOcoOrder: retried with a client_order_id, as a limit order. */
  placeOcoOrder(pair: OcoOrder): Promise<PlacedOco> {
    return this.orders.placeOcoOrder(pair);
  }

  cancelOrder(orderId: bigint): Promise<CancelledOrder> {
    return this.orders.cancelOrder(orderId);
  }

  cancelAllOrders(request: matching.DeepPartial<matching.CancelAllOrdersRequest> = {}): Promise<matching.CancelAllOrdersResponse> {
    return this.orders.cancelAllOrders(request);
  }

  amendOrder(request: matching.DeepPartial<matching.AmendOrderRequest>): Promise<PlacedOrder> {
    return this.orders.amendOrder(request);
  }

  /** The dead-man switch (see OrderEntry.cancelAllOrdersAfter): timeoutSeconds 0 disarms it. */
  cancelAllOrdersAfter(timeoutSeconds: number): Promise<matching.CancelAllOrdersAfterResponse> {
    return this.orders.cancelAllOrdersAfter(timeoutSeconds);
  }

  addFunds(request: matching.DeepPartial<matching.AddFundsRequest>): Promise<matching.AddFundsResponse> {
    return this.orders.addFunds(request);
  }

  withdrawFunds(request: matching.DeepPartial<matching.WithdrawFundsRequest>): Promise<matching.WithdrawFundsResponse> {
    return this.orders.withdrawFunds(request);
  }

  /** A user's deposits and withdrawals, newest first, a page at a time (admin role). */
  listLedgerEntries(request: Partial<matching.ListLedgerEntriesRequest>): Promise<matching.ListLedgerEntriesResponse> {
    return this.read(this.channels.reads.listLedgerEntries, matching.ListLedgerEntriesRequest.fromPartial(request), true);
  }

  /** The caller's own fills, newest first, a page at a time. */
  listTrades(request: Partial<matching.ListTradesRequest> = {}): Promise<matching.ListTradesResponse> {
    return this.read(this.channels.reads.listTrades, matching.ListTradesRequest.fromPartial(request), true);
  }

  /** A market's latest trades, newest first (public). */
  async getRecentTrades(market: string, limit = 100): Promise<readonly matching.PublicTrade[]> {
    return (await this.read(this.channels.reads.getRecentTrades, { market, limit }, false)).trades;
  }

  /** A market's last price, best bid and ask and last 24 hours (public). */
  getTicker(market: string): Promise<matching.GetTickerResponse> {
    return this.read(this.channels.reads.getTicker, { market }, false);
  }

  /** A market's candles of one interval over the last 24 hours, newest first (public). */
  async listCandles(market: string, interval: matching.CandleInterval, limit = 100): Promise<readonly matching.Candle[]> {
    return (await this.read(this.channels.reads.listCandles, { market, interval, limit }, false)).candles;
  }

  async getOrder(orderId: bigint): Promise<matching.Order | undefined> {
    return (await this.read(this.channels.reads.getOrder, { orderId }, true)).order;
  }

  listOrders(request: Partial<matching.ListOrdersRequest> = {}): Promise<matching.ListOrdersResponse> {
    return this.read(this.channels.reads.listOrders, matching.ListOrdersRequest.fromPartial(request), true);
  }

  async getBalances(): Promise<readonly matching.Balance[]> {
    return (await this.read(this.channels.reads.getBalances, {}, true)).balances;
  }

  /** The balances of the exchange's fee account (admin role): what fees earned and rebates paid. */
  getFeeBalances(): Promise<matching.GetFeeBalancesResponse> {
    return this.read(this.channels.reads.getFeeBalances, {}, true);
  }

  getOrderBook(market: string, depth = 10): Promise<matching.GetOrderBookResponse> {
    return this.read(this.channels.reads.getOrderBook, { market, depth }, false);
  }

  async listMarkets(): Promise<readonly matching.Market[]> {
    return (await this.read(this.channels.reads.listMarkets, {}, false)).markets;
  }

  /** A live order book of one market, once its first snapshot is in. */
  liveBook(market: string, options: LiveOrderBookOptions = {}): Promise<LiveOrderBook> {
    return LiveOrderBook.open(this.channels.reads, market, options, this.policy, this.clock);
  }

  /**
   * Every trade of a market from the subscription on (public). The stream is opened when this
   * resolves, so trades made after it are in it.
   */
  async trades(market: string): Promise<AsyncGenerator<matching.Trade, void, undefined>> {
    return iterate(this.channels.reads.streamTrades({ market }), (message) => message.trade);
  }

  /** Every change to the caller's orders (of one market, or all) from the subscription on. */
  async orderUpdates(market = ''): Promise<AsyncGenerator<matching.StreamOrderUpdatesResponse, void, undefined>> {
    const metadata = bearer(await this.tokens.accessToken());
    return iterate(this.channels.reads.streamOrderUpdates({ market }, metadata), (message) => message);
  }

  close(): void {
    this.channels.close();
    this.auth.close();
  }

  /** A read: retried with backoff, as repeating it changes nothing. */
  private read<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, signedIn: boolean): Promise<Res> {
    return withRetries(
      this.policy,
      this.clock,
      async () => callUnary(this.channels.reads, method, request, signedIn ? bearer(await this.tokens.accessToken()) : new Metadata(), this.deadlineMs),
      isRetryable,
    );
  }
}
