import type { Command } from '@orderbook/engine';
import type { CommandInput } from './command-loop-api';

/**
 * Gives each command its header: seq (the engine's next), timestamp, and for placements the order
 * id. orderId = seq makes ids unique and increasing and lets recovery restore them from the
 * journal without a separate counter.
 */
export class Sequencer {
  /**
   * @param lastTimestamp the last timestamp already handed out (0 for an empty journal); timestamps
   *   never go below it, so a wall clock that steps back cannot reorder time across a restart.
   */
  constructor(
    private lastTimestamp: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The command for input when it is applied right after lastSeq. */
  next(input: CommandInput, lastSeq: number): Command {
    const seq = lastSeq + 1;
    this.lastTimestamp = Math.max(this.lastTimestamp, this.now());
    const timestamp = this.lastTimestamp;
    switch (input.kind) {
      case 'placeLimit':
        return { ...input, seq, timestamp, orderId: seq };
      case 'placeMarket':
        return { ...input, seq, timestamp, orderId: seq };
      case 'cancel':
        return { ...input, seq, timestamp };
      case 'deposit':
        return { ...input, seq, timestamp };
    }
  }
}
