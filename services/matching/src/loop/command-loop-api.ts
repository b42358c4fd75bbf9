import type {
  AmendCommand,
  CancelAllAfterCommand,
  CancelAllCommand,
  CancelCommand,
  CancelSessionCommand,
  CommandResult,
  CommandValue,
  ConfigureCommand,
  DepositCommand,
  EngineError,
  EngineEvent,
  EngineQueries,
  ExpireCommand,
  PlaceLimitCommand,
  PlaceMarketCommand,
  PlaceOcoCommand,
  WithdrawCommand,
} from '@orderbook/engine';

type Unsequenced<T> = Omit<T, 'seq' | 'timestamp'>;

/** A command as a handler builds it; the sequencer adds seq and timestamp (and the order ids: see Sequencer). */
export type CommandInput =
  | Omit<Unsequenced<PlaceLimitCommand>, 'orderId'>
  | Omit<Unsequenced<PlaceMarketCommand>, 'orderId'>
  | Unsequenced<CancelCommand>
  | Unsequenced<DepositCommand>
  | Unsequenced<AmendCommand>
  | Unsequenced<CancelAllCommand>
  | Unsequenced<ExpireCommand>
  | Unsequenced<CancelAllAfterCommand>
  | Unsequenced<CancelSessionCommand>
  | Omit<Unsequenced<PlaceOcoCommand>, 'orderId' | 'stopOrderId'>
  | Unsequenced<WithdrawCommand>
  | Unsequenced<ConfigureCommand>;

export type CommandKind = CommandInput['kind'];

/** The kind of value each kind of command answers with when the engine accepts it. */
export const VALUE_KINDS = {
  placeLimit: 'placed',
  placeMarket: 'placed',
  cancel: 'cancelled',
  deposit: 'deposited',
  amend: 'amended',
  cancelAll: 'cancelledAll',
  placeOco: 'placedOco',
  withdraw: 'withdrawn',
  expire: 'expired',
  cancelAllAfter: 'cancelAllAfterSet',
  cancelSession: 'cancelledAll',
  configure: 'configured',
} as const satisfies Readonly<Record<CommandKind, CommandValue['kind']>>;

export type ValueOf<K extends CommandKind> = Extract<CommandValue, { kind: (typeof VALUE_KINDS)[K] }>;

/** The result of a command of kind K: the engine's value for that kind, or its refusal (which changed nothing). */
export type ResultOf<K extends CommandKind> =
  | { readonly ok: true; readonly value: ValueOf<K>; readonly events: readonly EngineEvent[] }
  | { readonly ok: false; readonly error: EngineError };

/**
 * The engine's result typed by its command's kind, or undefined when the engine answered with
 * another kind of value. The engine types its results as one union, so this check is where the
 * narrowing happens, once, for every caller of submit().
 */
export function resultOf<K extends CommandKind>(kind: K, result: CommandResult): ResultOf<K> | undefined {
  return !result.ok || result.value.kind === VALUE_KINDS[kind] ? (result as ResultOf<K>) : undefined;
}

export interface CommandObserver {
  /** Called once per command after its result is durable (or rejected). */
  commandCompleted(kind: CommandKind, ok: boolean, latencySeconds: number): void;
  /** Called after each journal record is durable, with how long its fsync took. */
  journalSynced?(seconds: number): void;
  /** Called when the loop asks for a snapshot of the state at seq (the replica writes it). */
  snapshotStarted?(seq: number): void;
  /**
   * Called once that snapshot is durable (`ok`) or failed: `loopSeconds` is what the loop itself spent
   * starting it (the replica's take: posting the commands not yet sent, then the request), the only part
   * that holds up other commands; `totalSeconds` runs until the file was durable and older ones pruned.
   */
  snapshotEnded?(seq: number, loopSeconds: number, totalSeconds: number, ok: boolean): void;
}

/**
 * The single consumer of all commands (a multi-producer queue with a one-shot answer per command):
 * submit() resolves after the command's journal record is durable (or at once for a rejected
 * command, which changes nothing). It rejects only with the errors of ./errors.
 */
export interface CommandLoop {
  submit<I extends CommandInput>(input: I): Promise<ResultOf<I['kind']>>;
  /** Reads the engine's current state (same thread; never blocks on the journal). */
  readonly queries: EngineQueries;
  /** Durable events, in sequence order, once per command. Returns an unsubscribe function. */
  onEvents(listener: (seq: number, events: readonly EngineEvent[]) => void): () => void;
  /** Commands submitted and not yet answered. */
  queueDepth(): number;
  /** Free bytes of the data directory's file system, as last measured (and estimated since). */
  freeDiskBytes(): number;
  /** Stop accepting, finish queued commands, flush the journal, write a final snapshot. */
  close(): Promise<void>;
}
