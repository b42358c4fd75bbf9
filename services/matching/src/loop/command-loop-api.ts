import type {
  CancelCommand,
  CommandResult,
  DepositCommand,
  EngineEvent,
  EngineQueries,
  PlaceLimitCommand,
  PlaceMarketCommand,
} from '@orderbook/engine';

type Unsequenced<T> = Omit<T, 'seq' | 'timestamp'>;

/** A command as a handler builds it; the sequencer adds seq and timestamp (and the order id: orderId = seq). */
export type CommandInput =
  | Omit<Unsequenced<PlaceLimitCommand>, 'orderId'>
  | Omit<Unsequenced<PlaceMarketCommand>, 'orderId'>
  | Unsequenced<CancelCommand>
  | Unsequenced<DepositCommand>;

/** The queue is past its bound: the handler answers RESOURCE_EXHAUSTED. */
export class OverloadedError extends Error {
  override readonly name = 'OverloadedError';
}

/** The loop is closing or closed: the handler answers UNAVAILABLE. */
export class ShuttingDownError extends Error {
  override readonly name = 'ShuttingDownError';
}

export interface CommandObserver {
  /** Called once per command after its result is durable (or rejected). */
  commandCompleted(kind: CommandInput['kind'], ok: boolean, latencySeconds: number): void;
}

/**
 * The single consumer of all commands (the seed's mpsc + oneshot): submit() resolves after the
 * command's journal record is fsynced (or at once for a rejected command, which changes nothing).
 */
export interface CommandLoop {
  submit(input: CommandInput): Promise<CommandResult>;
  /** Reads the engine's current state (same thread; never blocks on the journal). */
  readonly queries: EngineQueries;
  /** Durable events, in sequence order, once per command. Returns an unsubscribe function. */
  onEvents(listener: (seq: number, events: readonly EngineEvent[]) => void): () => void;
  /** Commands submitted and not yet answered. */
  queueDepth(): number;
  /** Stop accepting, finish queued commands, flush the journal, write a final snapshot. */
  close(): Promise<void>;
}
