/**
 * Every user's balance of every asset, in units of 10^-8: `available` can be spent or locked;
 * `locked` backs open orders.
 *
 * One BigUint64Array holds them all — [available, locked] per (account, asset), addressed by a
 * BalanceRef — because u64 is exactly the range of an amount, the arithmetic stays exact bigint,
 * and, measured, it is twice as fast as bigint fields of per-user objects (no allocation per
 * update, no pointer chain to a cold object). u64 would wrap silently, so two rules keep every
 * value in range: callers check `available` before taking from it, and deposits are refused when an
 * asset's total supply would pass 2^64-1 (no balance can exceed the supply, because fills and locks
 * only move units between balances; restore refuses a snapshot whose supply passes it). Every
 * subtraction and every addition is checked all the same, against a state corrupted some other
 * way: one that would wrap is an engine fault (BalanceFaultError), which stops the command loop,
 * never a silent wrap. Nothing is written before both halves of a move are checked, so a call that
 * faults leaves the table as it was.
 */
import { BalanceFaultError } from './faults';
import { MAX_UNITS } from './fixed-point';

/** account index × asset count + asset index. */
export type BalanceRef = number;

export class Balances {
  private units = new BigUint64Array(0);
  /** Seq of the last command that touched each balance: one balance event per changed balance, without a per-command Set. */
  private marks = new Float64Array(0);
  /** Deposits less withdrawals so far, per asset. */
  private readonly supply: bigint[];

  constructor(readonly assets: readonly string[]) {
    this.supply = assets.map(() => 0n);
  }

  ref(accountIndex: number, assetIndex: number): BalanceRef {
    return accountIndex * this.assets.length + assetIndex;
  }

  /** Makes room for the balances of account `accountIndex` (all zero). */
  addAccount(accountIndex: number): void {
    const needed = (accountIndex + 1) * this.assets.length;
    if (needed * 2 <= this.units.length) return;
    const capacity = Math.max(needed, this.marks.length * 2, 64);
    const units = new BigUint64Array(capacity * 2);
    units.set(this.units);
    this.units = units;
    const marks = new Float64Array(capacity);
    marks.set(this.marks);
    this.marks = marks;
  }

  available(ref: BalanceRef): bigint {
    return this.units[ref * 2]!;
  }

  locked(ref: BalanceRef): bigint {
    return this.units[ref * 2 + 1]!;
  }

  assetOf(ref: BalanceRef): string {
    return this.assets[ref % this.assets.length]!;
  }

  accountIndexOf(ref: BalanceRef): number {
    return Math.floor(ref / this.assets.length);
  }

  /** Would depositing `amount` of the asset keep its total supply within 2^64-1? */
  canDeposit(assetIndex: number, amount: bigint): boolean {
    return this.supply[assetIndex]! + amount <= MAX_UNITS;
  }

  /** Adds `amount` to available; the caller has checked the supply with canDeposit. */
  deposit(ref: BalanceRef, amount: bigint): void {
    const available = this.sum('deposit', ref, this.units[ref * 2]!, amount);
    const asset = ref % this.assets.length;
    this.supply[asset] = this.supply[asset]! + amount;
    this.units[ref * 2] = available;
  }

  /** Takes `amount` out of available and out of the supply (a withdrawal); the caller has checked that it is available. */
  withdraw(ref: BalanceRef, amount: bigint): void {
    const available = this.units[ref * 2]!;
    if (amount > available) throw this.fault('withdrawal', ref, available, amount);
    const asset = ref % this.assets.length;
    this.supply[asset] = this.supply[asset]! - amount;
    this.units[ref * 2] = available - amount;
  }

  /** Moves `amount` from available to locked; the caller has checked that it is available. */
  lock(ref: BalanceRef, amount: bigint): void {
    const available = this.units[ref * 2]!;
    if (amount > available) throw this.fault('lock', ref, available, amount);
    const locked = this.sum('lock', ref, this.units[ref * 2 + 1]!, amount);
    this.units[ref * 2] = available - amount;
    this.units[ref * 2 + 1] = locked;
  }

  /** Moves `amount` back from locked to available. */
  release(ref: BalanceRef, amount: bigint): void {
    const locked = this.units[ref * 2 + 1]!;
    if (amount > locked) throw this.fault('release', ref, locked, amount);
    const available = this.sum('release', ref, this.units[ref * 2]!, amount);
    this.units[ref * 2 + 1] = locked - amount;
    this.units[ref * 2] = available;
  }

  /** Pays `amount` out of the locked funds (a fill). */
  spendLocked(ref: BalanceRef, amount: bigint): void {
    const locked = this.units[ref * 2 + 1]!;
    if (amount > locked) throw this.fault('fill payment', ref, locked, amount);
    this.units[ref * 2 + 1] = locked - amount;
  }

  /** Pays `amount` out of available (a maker rebate from the fee account); the caller has checked that it is available. */
  debit(ref: BalanceRef, amount: bigint): void {
    const available = this.units[ref * 2]!;
    if (amount > available) throw this.fault('rebate', ref, available, amount);
    this.units[ref * 2] = available - amount;
  }

  /** Receives `amount` from a fill. */
  credit(ref: BalanceRef, amount: bigint): void {
    this.units[ref * 2] = this.sum('credit', ref, this.units[ref * 2]!, amount);
  }

  private fault(operation: string, ref: BalanceRef, from: bigint, amount: bigint): BalanceFaultError {
    return new BalanceFaultError(`${operation} from account #${this.accountIndexOf(ref)}'s ${this.assetOf(ref)}`, from, amount);
  }

  /** `to` + `amount`, or a fault if a u64 would wrap it. */
  private sum(operation: string, ref: BalanceRef, to: bigint, amount: bigint): bigint {
    const sum = to + amount;
    if (sum > MAX_UNITS) throw new BalanceFaultError(`${operation} into account #${this.accountIndexOf(ref)}'s ${this.assetOf(ref)}`, to, amount, true);
    return sum;
  }

  /** Marks `ref` as touched by command `seq`; true the first time for that command. */
  touch(ref: BalanceRef, seq: number): boolean {
    if (this.marks[ref] === seq) return false;
    this.marks[ref] = seq;
    return true;
  }

  /** Total deposited of an asset (what a snapshot restored counts as deposited). */
  supplyOf(assetIndex: number): bigint {
    return this.supply[assetIndex]!;
  }

  /** A copy of the [available, locked] pairs of the first `accounts` accounts (a snapshot's). */
  copyUnits(accounts: number): BigUint64Array {
    return this.units.slice(0, accounts * this.assets.length * 2);
  }

  /** Sets a balance from a snapshot (supply is the sum of what is restored). */
  restore(ref: BalanceRef, available: bigint, locked: bigint): void {
    const asset = ref % this.assets.length;
    this.supply[asset] = this.supply[asset]! + available + locked;
    this.units[ref * 2] = available;
    this.units[ref * 2 + 1] = locked;
  }
}
