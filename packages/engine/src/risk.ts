/**
 * The risk stage, before matching: does the user have what an order must reserve, and reserving it.
 * (What the order reserves — its lock — follows the rounding rule of settlement.ts.)
 */
import type { CommandResult, Side } from './api';
import type { Account } from './account';
import type { EventRecorder } from './events';
import { formatAmount, MAX_ORDER_UNITS } from './fixed-point';
import type { Market } from './market';
import type { OrderRef } from './order-store';
import type { EngineState } from './state';
import { invalid, reject } from './validation';

const MAX_ORDER = BigInt(MAX_ORDER_UNITS);

/** Asset index of what an order of `side` reserves: quote for a buy, base for a sell. */
export const lockIndexOf = (market: Market, side: Side): number => (side === 'buy' ? market.quoteIndex : market.baseIndex);

export class Risk {
  constructor(
    private readonly state: EngineState,
    private readonly recorder: EventRecorder,
  ) {}

  /** The rejection of an order that needs `amount` of asset `assetIndex` when `account` has less available. */
  fundsError(account: Account | undefined, assetIndex: number, amount: bigint): CommandResult | undefined {
    const ledger = this.state.balances;
    const available = account === undefined ? 0n : ledger.available(ledger.ref(account.index, assetIndex));
    if (available >= amount) return undefined;
    const asset = this.state.assets[assetIndex]!;
    return reject('FAILED_PRECONDITION', undefined, `insufficient ${asset}: available ${formatAmount(available)}, required ${formatAmount(amount)}`);
  }

  /** The rejection of an order worth more than the engine's bound on one order. */
  tooValuable(market: Market): CommandResult {
    return invalid('quantity', `the order is worth more than the maximum ${formatAmount(MAX_ORDER)} ${market.config.quote}`);
  }

  /**
   * Makes an amended order's lock exactly `lock`: locks the difference (checked by fundsError)
   * or releases it.
   */
  relock(order: OrderRef, lock: number): void {
    const store = this.state.store;
    const more = lock - store.locked(order);
    if (more === 0) return;
    const ledger = this.state.balances;
    const balance = ledger.ref(store.accountIndex(order), store.lockIndex(order));
    if (more > 0) ledger.lock(balance, more);
    else ledger.release(balance, -more);
    store.setLocked(order, lock);
    this.recorder.balance(balance);
  }

  /** Reserves `amount` (below 2^53) for an accepted order (checked by fundsError). */
  lock(order: OrderRef, amount: number): void {
    const store = this.state.store;
    const ledger = this.state.balances;
    const balance = ledger.ref(store.accountIndex(order), store.lockIndex(order));
    ledger.lock(balance, amount);
    this.recorder.balance(balance);
  }
}
