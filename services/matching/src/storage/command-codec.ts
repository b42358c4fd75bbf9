import {
  type Command,
  type PlaceLimitCommand,
  type PlaceMarketCommand,
  SELF_TRADE_PREVENTIONS,
  type SelfTradePrevention,
  type Side,
  SIDES,
  type TimeInForce,
  TIMES_IN_FORCE,
} from '@orderbook/engine';

/**
 * The journal's encoding of a command: JSON with every header and body field spelled out and
 * bigints as decimal strings. Fields are copied one by one (never spread) so that whatever else a
 * caller's object carries stays out of the journal, and so that decoding can check each one: a
 * journal written by another version fails loudly instead of replaying into a different state.
 * Optional fields added later (a cancel's clientOrderId, a deposit's requestId) are left out when
 * absent, so that journals written before them read the same.
 */

/** A journal record's payload does not describe a command this version understands. */
export class CommandDecodeError extends Error {
  override readonly name = 'CommandDecodeError';
}

/** One command as JSON text. */
export function encodeCommand(cmd: Command): string {
  switch (cmd.kind) {
    case 'placeLimit':
    case 'placeMarket': {
      // One literal for both kinds (a market order's limit-only fields are undefined, which
      // JSON leaves out): the journal holds the same bytes as when each kind had its own.
      const limit = cmd.kind === 'placeLimit' ? cmd : undefined;
      return JSON.stringify({
        kind: cmd.kind,
        seq: cmd.seq,
        timestamp: cmd.timestamp,
        orderId: cmd.orderId,
        userId: cmd.userId,
        market: cmd.market,
        side: cmd.side,
        price: limit?.price.toString(),
        quantity: cmd.quantity.toString(),
        timeInForce: limit?.timeInForce,
        postOnly: limit?.postOnly,
        selfTradePrevention: cmd.selfTradePrevention,
        clientOrderId: cmd.clientOrderId,
      });
    }
    case 'cancel':
      return JSON.stringify({
        kind: cmd.kind,
        seq: cmd.seq,
        timestamp: cmd.timestamp,
        userId: cmd.userId,
        orderId: cmd.orderId,
        clientOrderId: cmd.clientOrderId,
      });
    case 'deposit':
      return JSON.stringify({
        kind: cmd.kind,
        seq: cmd.seq,
        timestamp: cmd.timestamp,
        userId: cmd.userId,
        asset: cmd.asset,
        amount: cmd.amount.toString(),
        requestId: cmd.requestId,
      });
    case 'amend':
      return JSON.stringify({
        kind: cmd.kind,
        seq: cmd.seq,
        timestamp: cmd.timestamp,
        userId: cmd.userId,
        orderId: cmd.orderId,
        clientOrderId: cmd.clientOrderId,
        price: cmd.price?.toString(),
        quantity: cmd.quantity?.toString(),
      });
    case 'cancelAll':
      return JSON.stringify({ kind: cmd.kind, seq: cmd.seq, timestamp: cmd.timestamp, userId: cmd.userId, market: cmd.market, side: cmd.side });
  }
}

/** A batch of encoded commands as one journal record payload: a JSON array. */
export function encodeBatch(encodedCommands: readonly string[]): Buffer {
  return Buffer.from(`[${encodedCommands.join(',')}]`, 'utf8');
}

export function decodeBatch(payload: Buffer): Command[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new CommandDecodeError(`journal record is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new CommandDecodeError('journal record is not a JSON array');
  return parsed.map(decodeCommand);
}

export function decodeCommand(value: unknown): Command {
  const r = new FieldReader(value);
  const kind = r.oneOf('kind', ['placeLimit', 'placeMarket', 'cancel', 'deposit', 'amend', 'cancelAll'] as const);
  const seq = r.integer('seq');
  const timestamp = r.integer('timestamp');
  switch (kind) {
    case 'placeLimit':
      return withClientOrderId(
        {
          kind,
          seq,
          timestamp,
          ...placementFields(r),
          price: r.bigint('price'),
          quantity: r.bigint('quantity'),
          timeInForce: r.oneOf<TimeInForce>('timeInForce', TIMES_IN_FORCE),
          postOnly: r.boolean('postOnly'),
        },
        r.optionalString('clientOrderId'),
      );
    case 'placeMarket':
      return withClientOrderId({ kind, seq, timestamp, ...placementFields(r), quantity: r.bigint('quantity') }, r.optionalString('clientOrderId'));
    case 'cancel':
      return withClientOrderId({ kind, seq, timestamp, userId: r.string('userId'), orderId: r.integer('orderId') }, r.optionalString('clientOrderId'));
    case 'deposit':
      return withRequestId(
        { kind, seq, timestamp, userId: r.string('userId'), asset: r.string('asset'), amount: r.bigint('amount') },
        r.optionalString('requestId'),
      );
    case 'amend': {
      const price = r.optionalBigint('price');
      const quantity = r.optionalBigint('quantity');
      return withClientOrderId(
        {
          kind, seq, timestamp, userId: r.string('userId'), orderId: r.integer('orderId'),
          ...(price === undefined ? {} : { price }),
          ...(quantity === undefined ? {} : { quantity }),
        },
        r.optionalString('clientOrderId'),
      );
    }
    case 'cancelAll': {
      const market = r.optionalString('market');
      const side = r.optionalOneOf<Side>('side', SIDES);
      return { kind, seq, timestamp, userId: r.string('userId'), ...(market === undefined ? {} : { market }), ...(side === undefined ? {} : { side }) };
    }
  }
}

/** What both kinds of placement carry besides their header, quantity and prices. */
function placementFields(r: FieldReader): Pick<PlaceLimitCommand | PlaceMarketCommand, 'orderId' | 'userId' | 'market' | 'side' | 'selfTradePrevention'> {
  return {
    orderId: r.integer('orderId'),
    userId: r.string('userId'),
    market: r.string('market'),
    side: r.oneOf<Side>('side', SIDES),
    selfTradePrevention: r.oneOf<SelfTradePrevention>('selfTradePrevention', SELF_TRADE_PREVENTIONS),
  };
}

/** Adds clientOrderId only when present, so a decoded command equals the one that was encoded. */
function withClientOrderId<T extends object>(cmd: T, clientOrderId: string | undefined): T {
  return clientOrderId === undefined ? cmd : { ...cmd, clientOrderId };
}

/** Adds requestId only when present, as withClientOrderId. */
function withRequestId<T extends object>(cmd: T, requestId: string | undefined): T {
  return requestId === undefined ? cmd : { ...cmd, requestId };
}

class FieldReader {
  private readonly record: Record<string, unknown>;

  constructor(value: unknown) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new CommandDecodeError('journal command is not a JSON object');
    }
    this.record = value as Record<string, unknown>;
  }

  integer(field: string): number {
    const value = this.record[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw this.invalid(field, 'an integer');
    return value;
  }

  string(field: string): string {
    const value = this.record[field];
    if (typeof value !== 'string') throw this.invalid(field, 'a string');
    return value;
  }

  optionalString(field: string): string | undefined {
    return this.record[field] === undefined ? undefined : this.string(field);
  }

  boolean(field: string): boolean {
    const value = this.record[field];
    if (typeof value !== 'boolean') throw this.invalid(field, 'a boolean');
    return value;
  }

  bigint(field: string): bigint {
    const value = this.record[field];
    if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw this.invalid(field, 'a decimal integer string');
    return BigInt(value);
  }

  optionalBigint(field: string): bigint | undefined {
    return this.record[field] === undefined ? undefined : this.bigint(field);
  }

  optionalOneOf<T extends string>(field: string, allowed: readonly T[]): T | undefined {
    return this.record[field] === undefined ? undefined : this.oneOf(field, allowed);
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const value = this.record[field];
    if (!allowed.includes(value as T)) throw this.invalid(field, `one of ${allowed.join(', ')}`);
    return value as T;
  }

  private invalid(field: string, expected: string): CommandDecodeError {
    return new CommandDecodeError(
      `journal command field "${field}" is ${JSON.stringify(this.record[field])}, expected ${expected}`,
    );
  }
}
