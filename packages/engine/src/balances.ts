/**
 * Every user's balance of every asset, in units of 10^-8: `available` can be spent or locked;
 * `locked` backs open orders.
 *
 * One BigUint64Array holds them all — [available, locked] per (account, asset), addressed by a
 * BalanceRef — because u64 is exactly the range of an amount, and, measured, it is twice as fast as
 * bigint fields of per-user objects (no pointer chain to a cold object). The moves of orders and
 * fills (lock, release, spendLocked, credit, debit) take amounts as numbers, which the engine bounds
 * below 2^53 (MAX_ORDER_UNITS), and do their arithmetic on the two u32 words of each u64 (a Uint32Array
 * over the same memory), exact in doubles: every bigint read or operation allocated one (24 B),
 * ~220 B per command on the benchmark. Deposits and withdrawals, up to 2^64-1, stay bigint.
 * u64 would wrap silently, so two rules keep every
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

/** 2^32: a u64 is hi × 2^32 + lo, two u32 words, each exact in a double. */
const WORD = 4294967296;
/** Offsets of a u64's low and high u32 word in the Uint32Array over it (the platform's byte order). */
const LO = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

export class Balances {
  private units = new BigUint64Array(0);
  /** The same memory as `units`, as u32 words: u64 number k is words 2k and 2k+1. */
  private words = new Uint32Array(0);
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
    this.words = new Uint32Array(units.buffer);
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

  /** Moves `amount` (an integer below 2^53, as every amount below) from available to locked; the caller has checked that it is available. */
  lock(ref: BalanceRef, amount: number): void {
    const available = ref * 2;
    if (!this.covers(available, amount)) throw this.fault('lock', ref, this.units[available]!, amount);
    this.checkSum('lock', ref, available + 1, amount);
    this.take(available, amount);
    this.add(available + 1, amount);
  }

  /** Moves `amount` back from locked to available. */
  release(ref: BalanceRef, amount: number): void {
    const available = ref * 2;
    if (!this.covers(available + 1, amount)) throw this.fault('release', ref, this.units[available + 1]!, amount);
    this.checkSum('release', ref, available, amount);
    this.take(available + 1, amount);
    this.add(available, amount);
  }

  /** Pays `amount` out of the locked funds (a fill). */
  spendLocked(ref: BalanceRef, amount: number): void {
    const locked = ref * 2 + 1;
    if (!this.covers(locked, amount)) throw this.fault('fill payment', ref, this.units[locked]!, amount);
    this.take(locked, amount);
  }

  /** Pays `amount` out of available (a maker rebate from the fee account); the caller has checked that it is available. */
  debit(ref: BalanceRef, amount: number): void {
    const available = ref * 2;
    if (!this.covers(available, amount)) throw this.fault('rebate', ref, this.units[available]!, amount);
    this.take(available, amount);
  }

  /** Receives `amount` from a fill. */
  credit(ref: BalanceRef, amount: number): void {
    this.checkSum('credit', ref, ref * 2, amount);
    this.add(ref * 2, amount);
  }

  /** Is u64 number `k` at least `amount`? */
  private covers(k: number, amount: number): boolean {
    const high = Math.floor(amount / WORD);
    const hi = this.words[k * 2 + HI]!;
    return hi > high || (hi === high && this.words[k * 2 + LO]! >= amount - high * WORD);
  }

  /** A fault unless u64 number `k` + `amount` is at most 2^64-1. */
  private checkSum(operation: string, ref: BalanceRef, k: number, amount: number): void {
    const high = Math.floor(amount / WORD);
    const carry = this.words[k * 2 + LO]! + (amount - high * WORD) >= WORD ? 1 : 0;
    if (this.words[k * 2 + HI]! + high + carry >= WORD) throw this.wrapFault(operation, ref, this.units[k]!, amount);
  }

  /** u64 number `k` += `amount`, checked by checkSum. */
  private add(k: number, amount: number): void {
    const words = this.words;
    const high = Math.floor(amount / WORD);
    let lo = words[k * 2 + LO]! + (amount - high * WORD);
    let hi = words[k * 2 + HI]! + high;
    if (lo >= WORD) {
      lo -= WORD;
      hi += 1;
    }
    words[k * 2 + LO] = lo;
    words[k * 2 + HI] = hi;
  }

  /** u64 number `k` -= `amount`, checked by covers. */
  private take(k: number, amount: number): void {
    const words = this.words;
    const high = Math.floor(amount / WORD);
    let lo = words[k * 2 + LO]! - (amount - high * WORD);
    let hi = words[k * 2 + HI]! - high;
    if (lo < 0) {
      lo += WORD;
      hi -= 1;
    }
    words[k * 2 + LO] = lo;
    words[k * 2 + HI] = hi;
  }

  private fault(operation: string, ref: BalanceRef, from: bigint, amount: bigint | number): BalanceFaultError {
    return new BalanceFaultError(`${operation} from account #${this.accountIndexOf(ref)}'s ${this.assetOf(ref)}`, from, amount);
  }

  /** `to` + `amount`, or a fault if a u64 would wrap it. */
  private sum(operation: string, ref: BalanceRef, to: bigint, amount: bigint): bigint {
    const sum = to + amount;
    if (sum > MAX_UNITS) throw this.wrapFault(operation, ref, to, amount);
    return sum;
  }

  private wrapFault(operation: string, ref: BalanceRef, to: bigint, amount: bigint | number): BalanceFaultError {
    return new BalanceFaultError(`${operation} into account #${this.accountIndexOf(ref)}'s ${this.assetOf(ref)}`, to, amount, true);
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
