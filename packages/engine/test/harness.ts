/** Test harness: an Engine plus the sequencer's job (seq, timestamps, order ids) and readable amounts. */
import {
  Engine,
  parseAmount,
  parsePrice,
  parseQuantity,
  type Command,
  type CommandResult,
  type EngineConfig,
  type SelfTradePrevention,
  type Side,
  type TimeInForce,
} from '../src/index';

export const CONFIG: EngineConfig = {
  markets: [
    { symbol: 'BTC-USD', base: 'BTC', quote: 'USD' },
    { symbol: 'ETH-USD', base: 'ETH', quote: 'USD' },
    { symbol: 'SOL-USD', base: 'SOL', quote: 'USD' },
  ],
  closedOrdersRetainedPerUser: 1000,
};

function units(parsed: { ok: true; value: bigint } | { ok: false; error: { message: string } }): bigint {
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}
/** "98.5" → price units (10^-6). */
export const px = (text: string): bigint => units(parsePrice(text));
/** "1.5" → quantity units (10^-8). */
export const qty = (text: string): bigint => units(parseQuantity(text));
/** "100" → amount units (10^-8). */
export const amt = (text: string): bigint => units(parseAmount(text));

export interface LimitOptions {
  timeInForce?: TimeInForce;
  /** Unix ms; for GTD orders. */
  expireAt?: number;
  postOnly?: boolean;
  selfTradePrevention?: SelfTradePrevention;
  clientOrderId?: string;
}

/** Payload of a command, before the sequencer adds seq and timestamp. */
export type CommandBody = Command extends infer C ? (C extends Command ? Omit<C, 'seq' | 'timestamp'> : never) : never;

export class Harness {
  engine: Engine;
  nextOrderId = 1;
  readonly log: Command[] = [];
  /** Added to every later timestamp: advance() moves the clock on. */
  private skew = 0;

  constructor(readonly config: EngineConfig = CONFIG) {
    this.engine = new Engine(config);
  }

  /** The timestamp the next command gets. */
  now(): number {
    return 1_700_000_000_000 + this.engine.lastSeq() + 1 + this.skew;
  }

  /** Moves the clock `ms` on for the commands that follow. */
  advance(ms: number): void {
    this.skew += ms;
  }

  /** Applies a command body with the next seq (and a timestamp derived from it). */
  send(body: CommandBody): CommandResult {
    const seq = this.engine.lastSeq() + 1;
    const cmd = { ...body, seq, timestamp: this.now() } as Command;
    this.log.push(cmd);
    return this.engine.apply(cmd);
  }

  deposit(userId: string, asset: string, amount: string): CommandResult {
    return this.send({ kind: 'deposit', userId, asset, amount: amt(amount) });
  }

  limit(userId: string, market: string, side: Side, price: string, quantity: string, o: LimitOptions = {}): CommandResult {
    return this.send({
      kind: 'placeLimit', orderId: this.nextOrderId++, userId, market, side, price: px(price), quantity: qty(quantity),
      timeInForce: o.timeInForce ?? 'GTC', postOnly: o.postOnly ?? false,
      selfTradePrevention: o.selfTradePrevention ?? 'cancel_resting', ...(o.clientOrderId === undefined ? {} : { clientOrderId: o.clientOrderId }),
      ...(o.expireAt === undefined ? {} : { expireAt: o.expireAt }),
    });
  }

  market(userId: string, market: string, side: Side, quantity: string, o: Omit<LimitOptions, 'timeInForce' | 'postOnly'> = {}): CommandResult {
    return this.send({
      kind: 'placeMarket', orderId: this.nextOrderId++, userId, market, side, quantity: qty(quantity),
      selfTradePrevention: o.selfTradePrevention ?? 'cancel_resting', ...(o.clientOrderId === undefined ? {} : { clientOrderId: o.clientOrderId }),
    });
  }

  /** A stop-limit order: `limit` with a stop price. */
  stopLimit(userId: string, market: string, side: Side, stopPrice: string, price: string, quantity: string, o: LimitOptions = {}): CommandResult {
    return this.send({
      kind: 'placeLimit', orderId: this.nextOrderId++, userId, market, side, price: px(price), quantity: qty(quantity),
      timeInForce: o.timeInForce ?? 'GTC', postOnly: o.postOnly ?? false, stopPrice: px(stopPrice),
      selfTradePrevention: o.selfTradePrevention ?? 'cancel_resting', ...(o.clientOrderId === undefined ? {} : { clientOrderId: o.clientOrderId }),
    });
  }

  stopMarket(userId: string, market: string, side: Side, stopPrice: string, quantity: string, o: Omit<LimitOptions, 'timeInForce' | 'postOnly'> = {}): CommandResult {
    return this.send({
      kind: 'placeMarket', orderId: this.nextOrderId++, userId, market, side, quantity: qty(quantity), stopPrice: px(stopPrice),
      selfTradePrevention: o.selfTradePrevention ?? 'cancel_resting', ...(o.clientOrderId === undefined ? {} : { clientOrderId: o.clientOrderId }),
    });
  }

  /** A one-cancels-other pair: its limit order gets the first of two new ids, its stop the second. */
  oco(
    userId: string, market: string, side: Side, price: string, stopPrice: string, quantity: string, stopLimitPrice?: string,
    opts: { clientOrderId?: string } = {},
  ): CommandResult {
    const orderId = this.nextOrderId++;
    const stopOrderId = this.nextOrderId++;
    return this.send({
      kind: 'placeOco', orderId, stopOrderId, userId, market, side, quantity: qty(quantity), price: px(price), stopPrice: px(stopPrice),
      ...(stopLimitPrice === undefined ? {} : { stopLimitPrice: px(stopLimitPrice) }), selfTradePrevention: 'cancel_resting', ...opts,
    });
  }

  cancel(userId: string, orderId: number): CommandResult {
    return this.send({ kind: 'cancel', userId, orderId });
  }

  /** Amends order `orderId` to a new price and/or quantity (readable decimals; undefined keeps it). */
  amend(userId: string, orderId: number, change: { price?: string; quantity?: string }): CommandResult {
    return this.send({
      kind: 'amend', userId, orderId,
      ...(change.price === undefined ? {} : { price: px(change.price) }),
      ...(change.quantity === undefined ? {} : { quantity: qty(change.quantity) }),
    });
  }

  balance(userId: string, asset: string): { available: bigint; locked: bigint } {
    const b = this.engine.balances(userId).find((x) => x.asset === asset);
    if (b === undefined) throw new Error(`no asset ${asset}`);
    return { available: b.available, locked: b.locked };
  }
}

/** The value of an accepted command, or a thrown error saying why it was rejected. */
export function accepted(result: CommandResult): Extract<CommandResult, { ok: true }> {
  if (!result.ok) throw new Error(`rejected: ${result.error.code} ${result.error.message}`);
  return result;
}

export function placed(result: CommandResult) {
  const r = accepted(result);
  if (r.value.kind !== 'placed') throw new Error(`expected a placement, got ${r.value.kind}`);
  return { ...r.value, events: r.events };
}

export function rejected(result: CommandResult) {
  if (result.ok) throw new Error(`expected a rejection, got ${result.value.kind}`);
  return result.error;
}
