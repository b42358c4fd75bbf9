import { status, type handleBidiStreamingCall, type ServerDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type { matching } from '@orderbook/proto';
import { type ClientAddresses, invalidFieldStatus, type Logger, statusDetailsOf, type StatusAdapter } from '@orderbook/server-kit';
import { callerOf, sessionOf } from '../auth/caller-identity';
import type { LiveCalls } from '../ops/live-calls';
import type { MatchingMetrics } from '../ops/metrics';
import type { ServiceState } from '../ops/service-state';
import type { OrderEntry } from './order-entry';
import { SessionOrders } from './session-orders';
import type { StreamLimits } from './stream-limits';

/** The request metadata that opens a session with cancel-on-disconnect: `true` (or `false`, the default). */
export const CANCEL_ON_DISCONNECT = 'cancel-on-disconnect';

export interface OrderSessionDeps {
  readonly entry: OrderEntry;
  readonly liveCalls: LiveCalls;
  readonly metrics: MatchingMetrics;
  /** Commands of one session awaiting their result; at the bound the session stops reading. */
  readonly maxInFlight: number;
  /** An open session counts as a stream: per client address and in total (RESOURCE_EXHAUSTED past them). */
  readonly streamLimits: StreamLimits;
  readonly clientAddresses: ClientAddresses;
  readonly statuses: StatusAdapter;
  readonly state: ServiceState;
  readonly logger: Logger;
}

type Call = ServerDuplexStream<matching.OrderSessionRequest, matching.OrderSessionResponse>;

/**
 * The OrderSession bidi stream. The caller was authenticated when the stream started (by the
 * interceptor); each request runs like its unary RPC and gets exactly one response echoing its
 * request_id, a failure as an OrderSessionError with the code the RPC would have returned.
 */
export function orderSessionHandler(deps: OrderSessionDeps): handleBidiStreamingCall<matching.OrderSessionRequest, matching.OrderSessionResponse> {
  return (call) => {
    let userId: string;
    let cancelOnDisconnect: boolean;
    let leave: () => void;
    try {
      userId = callerOf(call).userId;
      cancelOnDisconnect = cancelOnDisconnectOption(call.metadata.get(CANCEL_ON_DISCONNECT));
    } catch (err) {
      call.emit('error', deps.statuses.toServiceError(err, call.getPath()));
      return;
    }
    try {
      leave = deps.streamLimits.admit(deps.clientAddresses.of(call));
    } catch (err) {
      deps.metrics.streamRefused('order_session');
      call.emit('error', deps.statuses.toServiceError(err, call.getPath()));
      return;
    }
    const orders = cancelOnDisconnect ? new SessionOrders((orderId) => stillOpen(deps.state, userId, orderId)) : undefined;
    new OrderSession(call, userId, deps, orders, leave).start(sessionOf(call));
  };
}

/** Whether the order is open or a waiting stop; when the engine stopped, kept as open (the cancel will be refused anyway). */
function stillOpen(state: ServiceState, userId: string, orderId: number): boolean {
  let status: string | undefined;
  try {
    status = state.current().loop.queries.getOrder(userId, orderId)?.status;
  } catch {
    return true;
  }
  return status === 'open' || status === 'partially_filled' || status === 'untriggered';
}

function cancelOnDisconnectOption(values: readonly (string | Buffer)[]): boolean {
  if (values.length === 0) return false;
  if (values.length === 1 && (values[0] === 'true' || values[0] === 'false')) return values[0] === 'true';
  throw invalidFieldStatus(CANCEL_ON_DISCONNECT, 'request metadata must be "true" or "false", once');
}


/**
 * Flow control instead of errors: the session reads requests only while fewer than maxInFlight
 * await their result and the client keeps reading responses. grpc-js then stops reading the
 * HTTP/2 stream, so a fast client is slowed down by the transport and memory stays bounded.
 */
class OrderSession {
  private inFlight = 0;
  private clientDone = false;
  /** Set at shutdown: the status the session ends with once its commands in flight are answered. */
  private stopping: ServiceError | undefined;
  private responsesBlocked = false;
  private finished = false;
  private unregister: () => void = () => undefined;
  private ordersCancelled = false;

  constructor(
    private readonly call: Call,
    private readonly userId: string,
    private readonly deps: OrderSessionDeps,
    /** With cancel-on-disconnect: the orders to cancel when the session ends. */
    private readonly orders: SessionOrders | undefined,
    /** Gives the session's place within the stream limits back. */
    private readonly leave: () => void,
  ) {}

  start(sessionId: string | undefined): void {
    this.deps.metrics.streamOpened('order_session');
    this.call.on('data', (request: matching.OrderSessionRequest) => this.accept(request));
    this.call.on('end', () => {
      this.clientDone = true;
      this.maybeFinish();
    });
    this.call.on('cancelled', () => this.finish());
    this.call.on('drain', () => {
      this.responsesBlocked = false;
      this.updateFlow();
    });
    this.unregister = this.deps.liveCalls.register((reason) => {
      // Shutdown or a revoked sign-in: read nothing more, let the commands in flight finish, then end the session.
      this.stopping = reason;
      this.updateFlow();
      this.maybeFinish();
    }, sessionId);
  }

  private accept(request: matching.OrderSessionRequest): void {
    if (this.stopping !== undefined || this.finished) return;
    this.inFlight++;
    this.updateFlow();
    this.execute(request)
      .then((response) => {
        // Recorded even after the stream ended: a placement answered late is cancelled all the same.
        this.orders?.placed(response.placeLimitOrder?.order);
        this.orders?.placed(response.placeMarketOrder?.order);
        this.orders?.placed(response.placeOcoOrder?.order);
        this.orders?.placed(response.placeOcoOrder?.stopOrder);
        if (!this.finished) this.responsesBlocked = !this.call.write(response);
      })
      .finally(() => {
        this.inFlight--;
        this.updateFlow();
        this.maybeFinish();
        this.cancelOnDisconnect();
      });
  }

  private async execute(request: matching.OrderSessionRequest): Promise<matching.OrderSessionResponse> {
    const { requestId } = request;
    const { entry } = this.deps;
    try {
      if (request.placeLimitOrder !== undefined) return { requestId, placeLimitOrder: await entry.placeLimitOrder(this.userId, request.placeLimitOrder) };
      if (request.placeMarketOrder !== undefined) return { requestId, placeMarketOrder: await entry.placeMarketOrder(this.userId, request.placeMarketOrder) };
      if (request.cancelOrder !== undefined) return { requestId, cancelOrder: await entry.cancelOrder(this.userId, request.cancelOrder) };
      if (request.amendOrder !== undefined) return { requestId, amendOrder: await entry.amendOrder(this.userId, request.amendOrder) };
      if (request.placeOcoOrder !== undefined) return { requestId, placeOcoOrder: await entry.placeOcoOrder(this.userId, request.placeOcoOrder) };
      if (request.cancelAllOrders !== undefined) return { requestId, cancelAllOrders: await entry.cancelAllOrders(this.userId, request.cancelAllOrders) };
      this.deps.metrics.commandRejected(status.INVALID_ARGUMENT);
      return errorResponse(
        requestId,
        invalidFieldStatus(
          'command',
          'one of place_limit_order, place_market_order, cancel_order, amend_order, place_oco_order or cancel_all_orders is required',
        ),
      );
    } catch (err) {
      // OrderEntry already turned the failure into a ServiceError and counted it.
      return errorResponse(requestId, this.deps.statuses.toServiceError(err, this.call.getPath()));
    }
  }

  private updateFlow(): void {
    if (this.finished) return;
    if (this.stopping !== undefined || this.responsesBlocked || this.inFlight >= this.deps.maxInFlight) this.call.pause();
    else this.call.resume();
  }

  private maybeFinish(): void {
    if (this.finished || this.inFlight > 0) return;
    if (this.stopping !== undefined) {
      this.finish();
      this.call.emit('error', this.stopping);
    } else if (this.clientDone) {
      this.finish();
      this.call.end();
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.unregister();
    this.leave();
    this.deps.metrics.streamClosed('order_session');
    this.cancelOnDisconnect();
  }

  /**
   * Once the session ended and its last command was answered: cancels its open orders, in one
   * command per CANCEL_BATCH_ORDERS of them, one after another, unless the server is shutting
   * down (orders survive a restart).
   */
  private cancelOnDisconnect(): void {
    if (this.orders === undefined || !this.finished || this.inFlight > 0 || this.ordersCancelled) return;
    this.ordersCancelled = true;
    if (this.deps.liveCalls.isClosing()) return;
    const batches = this.orders.openBatches();
    if (batches.length > 0) void this.cancelSessionOrders(batches);
  }

  private async cancelSessionOrders(batches: readonly (readonly number[])[]): Promise<void> {
    const { logger } = this.deps;
    let cancelled = 0;
    try {
      for (const orderIds of batches) cancelled += await this.deps.entry.cancelSessionOrders(this.userId, orderIds);
      logger.info({ userId: this.userId, cancelled }, 'order session ended: its open orders cancelled (cancel-on-disconnect)');
    } catch (err) {
      const orders = batches.reduce((n, b) => n + b.length, 0);
      logger.warn({ err, userId: this.userId, orders, cancelled }, 'order session ended: cancelling its open orders failed');
    }
  }
}

function errorResponse(requestId: bigint, error: ServiceError): matching.OrderSessionResponse {
  return { requestId, error: { code: error.code, message: error.details, status: statusDetailsOf(error) } };
}
