import type { Command } from '@orderbook/engine';
import type { CommandInput } from './command-loop-api';

/** Where the sequence stands: the last seq and timestamp handed out (both 0 for an empty journal). */
export interface SequencePosition {
  readonly lastSeq: number;
  readonly lastTimestamp: number;
}

/**
 * The id of the stop order of a one-cancels-other pair placed at `seq` (its limit order's id is
 * seq): a pair needs two ids, and sequence numbers never reach 2^52, so these never meet them.
 */
export const OCO_STOP_ID_OFFSET = 2 ** 52;

/**
 * The only owner of the sequence: gives each command its header, seq (one more than the last),
 * timestamp, and for placements the order id. orderId = seq makes ids unique and increasing and
 * lets recovery restore them from the journal without a separate counter. Every command handed
 * out must be applied: the engine spends a seq on each, accepted or rejected.
 */
export class Sequencer {
  private lastSeq: number;
  /** Timestamps never go below it, so a wall clock that steps back cannot reorder time across a restart. */
  private lastTimestamp: number;

  constructor(
    start: SequencePosition,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSeq = start.lastSeq;
    this.lastTimestamp = start.lastTimestamp;
  }

  /**
   * The timestamp the next command gets if it is sequenced now: never below the last one. The
   * command loop reads it first to see whether a timer is due, then passes it to next().
   */
  timestamp(): number {
    return Math.max(this.lastTimestamp, this.now());
  }

  /**
   * The command for input, with the next seq, at `timestamp` (now if not given; never below the
   * last). Built by Object.assign onto a literal, never as `{ ...input, seq }`: in Node 20's V8 a
   * spread followed by more fields gives every object a hidden class of its own, which costs
   * microseconds to build and leaves each reader of commands (engine, journal codec) megamorphic.
   */
  next(input: CommandInput, timestamp = this.timestamp()): Command {
    const seq = ++this.lastSeq;
    this.lastTimestamp = Math.max(this.lastTimestamp, timestamp);
    timestamp = this.lastTimestamp;
    switch (input.kind) {
      case 'placeLimit':
      case 'placeMarket':
        return Object.assign({ seq, timestamp, orderId: seq }, input);
      case 'cancel':
      case 'deposit':
      case 'amend':
      case 'cancelAll':
      case 'withdraw':
      case 'expire':
      case 'cancelAllAfter':
      case 'cancelSession':
      case 'configure':
        return Object.assign({ seq, timestamp }, input);
      case 'placeOco':
        return Object.assign({ seq, timestamp, orderId: seq, stopOrderId: seq + OCO_STOP_ID_OFFSET }, input);
    }
  }
}
