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
import { CommandDecodeError } from './command-decode-error';

/**
 * Decoding of the journal records written before the binary encoding (command-codec.ts): JSON
 * arrays of commands with every field spelled out and bigints as decimal strings. Each field is
 * checked: a record that is not what that version wrote fails loudly instead of replaying into a
 * different state.
 */
export function decodeJsonBatch(payload: Buffer): Command[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new CommandDecodeError(`journal record is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new CommandDecodeError('journal record is not a JSON array');
  return parsed.map(decodeJsonCommand);
}

export function decodeJsonCommand(value: unknown): Command {
  const r = new FieldReader(value);
  const kind = r.oneOf('kind', ['placeLimit', 'placeMarket', 'cancel', 'deposit'] as const);
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
          // The JSON records predate GTD.
          timeInForce: r.oneOf<TimeInForce>('timeInForce', TIMES_IN_FORCE.slice(0, 3)),
          postOnly: r.boolean('postOnly'),
        },
        r.optionalString('clientOrderId'),
      );
    case 'placeMarket':
      return withClientOrderId({ kind, seq, timestamp, ...placementFields(r), quantity: r.bigint('quantity') }, r.optionalString('clientOrderId'));
    case 'cancel':
      return { kind, seq, timestamp, userId: r.string('userId'), orderId: r.integer('orderId') };
    case 'deposit':
      return {
        kind,
        seq,
        timestamp,
        userId: r.string('userId'),
        asset: r.string('asset'),
        amount: r.bigint('amount'),
      };
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
