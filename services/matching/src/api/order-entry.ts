import { formatAmount } from '@orderbook/engine';
import type { matching } from '@orderbook/proto';
import { type StatusAdapter, withoutStackTrace } from '@orderbook/server-kit';
import type { CommandInput, ValueOf } from '../loop/command-loop-api';
import type { MatchingMetrics } from '../ops/metrics';
import type { ServiceState } from '../ops/service-state';
import type { MarketDirectory } from './markets';
import { amendInput, cancelAllAfterInput, cancelAllInput, cancelInput, depositInput, placeLimitInput, placeMarketInput, placeOcoInput, withdrawInput } from './requests';
import { EngineRejectedError } from './status-mapping';
import { balanceToProto, ledgerEntryToProto, orderToProto, ownTradeToProto } from './views';

export interface OrderEntryDeps {
  readonly state: ServiceState;
  readonly markets: MarketDirectory;
  readonly metrics: MatchingMetrics;
  readonly statuses: StatusAdapter;
}

/**
 * The commands that change state, shared by the unary RPCs and OrderSession: validate, submit to
 * the command loop, answer with the durable result. Every failure leaves as a ServiceError and is
 * counted by its code.
 */
export class OrderEntry {
  constructor(private readonly deps: OrderEntryDeps) {}

  placeLimitOrder(userId: string, req: matching.PlaceLimitOrderRequest): Promise<matching.PlaceLimitOrderResponse> {
    return this.counted(async () => {
      const value = await this.run(placeLimitInput(req, userId, this.deps.markets));
      return { order: orderToProto(value.order), trades: value.trades.map((t) => ownTradeToProto(t, value.order)) };
    });
  }

  placeMarketOrder(userId: string, req: matching.PlaceMarketOrderRequest): Promise<matching.PlaceMarketOrderResponse> {
    return this.counted(async () => {
      const value = await this.run(placeMarketInput(req, userId, this.deps.markets));
      return { order: orderToProto(value.order), trades: value.trades.map((t) => ownTradeToProto(t, value.order)) };
    });
  }

  placeOcoOrder(userId: string, req: matching.PlaceOcoOrderRequest): Promise<matching.PlaceOcoOrderResponse> {
    return this.counted(async () => {
      const value = await this.run(placeOcoInput(req, userId, this.deps.markets));
      return { order: orderToProto(value.order), stopOrder: orderToProto(value.stopOrder), trades: value.trades.map((t) => ownTradeToProto(t, value.order)) };
    });
  }

  cancelOrder(userId: string, req: matching.CancelOrderRequest): Promise<matching.CancelOrderResponse> {
    return this.counted(async () => {
      const value = await this.run(cancelInput(req, userId));
      return { order: orderToProto(value.order), releasedAmount: formatAmount(value.releasedAmount), releasedAsset: value.releasedAsset };
    });
  }

  cancelAllOrders(userId: string, req: matching.CancelAllOrdersRequest): Promise<matching.CancelAllOrdersResponse> {
    return this.counted(async () => {
      const value = await this.run(cancelAllInput(req, userId, this.deps.markets));
      return { cancelledCount: value.count, released: value.released.map((r) => ({ asset: r.asset, amount: formatAmount(r.amount) })) };
    });
  }

  cancelAllOrdersAfter(userId: string, req: matching.CancelAllOrdersAfterRequest): Promise<matching.CancelAllOrdersAfterResponse> {
    return this.counted(async () => {
      const value = await this.run(cancelAllAfterInput(req, userId));
      return { currentTimeUnixMs: BigInt(value.currentTime), triggerTimeUnixMs: BigInt(value.triggerTime ?? 0) };
    });
  }

  /**
   * Cancel on disconnect: those of `orderIds` (an ended session's) that are still open. Resolves
   * with how many were cancelled.
   */
  cancelSessionOrders(userId: string, orderIds: readonly number[]): Promise<number> {
    return this.counted(async () => (await this.run({ kind: 'cancelSession', userId, orderIds })).count);
  }

  amendOrder(userId: string, req: matching.AmendOrderRequest): Promise<matching.AmendOrderResponse> {
    return this.counted(async () => {
      const value = await this.run(amendInput(req, userId));
      return { order: orderToProto(value.order), trades: value.trades.map((t) => ownTradeToProto(t, value.order)) };
    });
  }

  /** A deposit by the admin `adminId` (the verified caller), who the funds ledger records. */
  addFunds(adminId: string, req: matching.AddFundsRequest): Promise<matching.AddFundsResponse> {
    return this.counted(async () => {
      const value = await this.run(depositInput(req, this.deps.markets, adminId));
      return { userId: value.userId, balance: balanceToProto(value.balance) };
    });
  }

  /** A withdrawal by the admin `adminId` (the verified caller), who the funds ledger records. */
  withdrawFunds(adminId: string, req: matching.WithdrawFundsRequest): Promise<matching.WithdrawFundsResponse> {
    return this.counted(async () => {
      const value = await this.run(withdrawInput(req, this.deps.markets, adminId));
      return { userId: value.userId, balance: balanceToProto(value.balance), entry: ledgerEntryToProto(value.entry) };
    });
  }

  private async run<I extends CommandInput>(input: I): Promise<ValueOf<I['kind']>> {
    const result = await this.deps.state.current().loop.submit(input);
    // An expected answer (thin book, order already filled...), often thousands a second: no stack trace.
    if (!result.ok) throw withoutStackTrace(() => new EngineRejectedError(result.error, input.kind));
    return result.value;
  }

  private async counted<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      const serviceError = this.deps.statuses.toServiceError(err);
      this.deps.metrics.commandRejected(serviceError.code);
      throw serviceError;
    }
  }
}
