import { status } from '@grpc/grpc-js';
import type { EngineEvent } from '@orderbook/engine';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommandKind, CommandObserver } from '../loop/command-loop-api';
import type { ReplicationObserver } from '../loop/replicated-loop';
import { BoundHistogram, type Observe } from './bound-histogram';
import { replicationMetrics } from './replication-metrics';

/** The streams whose subscribers are counted. */
export type StreamName = 'order_book' | 'trades' | 'order_updates' | 'order_session';

/**
 * The service's Prometheus metrics, in a registry of its own (not prom-client's global one) so that
 * several servers in one process, as in the tests, keep separate counts.
 */
export class MatchingMetrics {
  readonly registry = new Registry();
  /** Declared whatever the journal, so that dashboards and alerts find them (without samples when not replicated). */
  readonly replication: ReplicationObserver;
  private readonly rejected: Counter<'code'>;
  private readonly commandDuration: BoundHistogram;
  /** commandDuration's series by command kind: [accepted, rejected]. */
  private readonly commandDurations = new Map<CommandKind, readonly [Observe, Observe]>();
  private readonly journalSync: Histogram;
  private readonly queueLimit: Gauge;
  private readonly streamBudget: Gauge;
  private readonly diskReserve: Gauge;
  private freeDisk: () => number = () => Infinity;
  private readonly callDuration: BoundHistogram;
  /** callDuration's series by method, then by status code. */
  private readonly callDurations = new Map<string, Observe[]>();
  private readonly subscribers: Gauge<'stream'>;
  private readonly slowConsumers: Counter<'stream'>;
  private readonly revocationFeedUp: Gauge;
  private readonly revocationsReceived: Counter;
  private readonly revokedStreams: Counter;
  private readonly callsRefused: Counter<'reason'>;
  private readonly refusedStreams: Counter<'stream'>;
  private readonly bookConflations: Counter;
  private streamBuffered: () => number = () => 0;
  private queueDepth: () => number = () => 0;
  /** Orders placed and trades counted since the last scrape, added to their counters when scraped (no label hashing per order). */
  private readonly unscrapedOrders = { limit: 0, market: 0 };
  private readonly unscrapedTrades = new Map<string, number>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.replication = replicationMetrics(this.registry);
    const registers = [this.registry];
    const unscrapedOrders = this.unscrapedOrders;
    new Counter({
      name: 'matching_orders_placed_total',
      help: 'Orders the engine accepted (rate() of it is orders per second).',
      labelNames: ['type'],
      collect() {
        for (const type of ['limit', 'market'] as const) {
          if (unscrapedOrders[type] > 0) this.inc({ type }, unscrapedOrders[type]);
          unscrapedOrders[type] = 0;
        }
      },
      registers,
    });
    const unscrapedTrades = this.unscrapedTrades;
    new Counter({
      name: 'matching_trades_total',
      help: 'Trades executed.',
      labelNames: ['market'],
      registers,
      collect() {
        for (const [market, count] of unscrapedTrades) this.inc({ market }, count);
        unscrapedTrades.clear();
      },
    });
    this.rejected = new Counter({
      name: 'matching_commands_rejected_total',
      help: 'Command RPCs (and OrderSession commands) answered with an error, by gRPC status code.',
      labelNames: ['code'],
      registers,
    });
    this.commandDuration = new BoundHistogram(
      'matching_command_duration_seconds',
      'From submit to a durable (journaled) result, per command kind.',
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      this.registry,
    );
    this.journalSync = new Histogram({
      name: 'matching_journal_fsync_duration_seconds',
      help: 'How long each fdatasync of an appended journal record took (every accepted command waits for one).',
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.queueLimit = new Gauge({ name: 'matching_command_queue_limit', help: 'MATCHING_MAX_QUEUE_DEPTH: past it commands are refused with RESOURCE_EXHAUSTED.', registers });
    this.streamBudget = new Gauge({ name: 'matching_stream_memory_budget_bytes', help: 'MATCHING_STREAM_MEMORY_BUDGET_BYTES: the bound of matching_stream_buffered_bytes.', registers });
    this.diskReserve = new Gauge({ name: 'matching_disk_reserve_bytes', help: 'MATCHING_DISK_RESERVE_BYTES: below it commands are refused (DISK_SPACE_LOW); 0 when the check is off.', registers });
    const free = (): number => this.freeDisk();
    new Gauge({
      name: 'matching_disk_free_bytes',
      help: "Free bytes of the data directory's file system, as last measured (estimated from journal writes between measurements).",
      registers,
      collect() {
        this.set(free());
      },
    });
    this.callDuration = new BoundHistogram(
      'matching_call_duration_seconds',
      'Unary RPCs from their arrival to their status being sent (the time spent in this service, token check included), by method and gRPC status code.',
      [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      this.registry,
    );
    const depth = (): number => this.queueDepth();
    new Gauge({
      name: 'matching_command_queue_depth',
      help: 'Commands submitted and not yet answered.',
      registers,
      collect() {
        this.set(depth());
      },
    });
    this.subscribers = new Gauge({ name: 'matching_stream_subscribers', help: 'Open streams.', labelNames: ['stream'], registers });
    this.slowConsumers = new Counter({
      name: 'matching_stream_slow_consumers_total',
      help: 'Streams ended with RESOURCE_EXHAUSTED because the client did not read fast enough.',
      labelNames: ['stream'],
      registers,
    });
    this.revocationFeedUp = new Gauge({
      name: 'matching_revocation_feed_up',
      help: "1 while the auth service's revocation feed is live; 0 while it is down and tokens older than MATCHING_REVOCATION_FALLBACK_SECONDS are refused.",
      registers,
    });
    this.revocationsReceived = new Counter({ name: 'matching_revocations_received_total', help: 'Revoked sessions learned from the auth service.', registers });
    this.revokedStreams = new Counter({
      name: 'matching_streams_ended_by_revocation_total',
      help: 'Open order-update streams and order sessions ended because their sign-in session was revoked.',
      registers,
    });
    this.callsRefused = new Counter({
      name: 'matching_calls_unauthorized_total',
      help: 'Calls refused by the token check, by reason (no_token, invalid, revoked, revocation_feed_down, keys_unavailable, not_admin).',
      labelNames: ['reason'],
      registers,
    });
    this.refusedStreams = new Counter({
      name: 'matching_streams_refused_total',
      help: 'Streams refused with RESOURCE_EXHAUSTED at the total or per-peer stream limit.',
      labelNames: ['stream'],
      registers,
    });
    this.bookConflations = new Counter({
      name: 'matching_book_stream_conflations_total',
      help: 'Snapshots sent to book readers that fell behind, in place of the updates they missed.',
      registers,
    });
    const buffered = (): number => this.streamBuffered();
    new Gauge({
      name: 'matching_stream_buffered_bytes',
      help: 'Bytes of stream messages written and not yet taken by the transport, over all subscribers (bounded by MATCHING_STREAM_MEMORY_BUDGET_BYTES).',
      registers,
      collect() {
        this.set(buffered());
      },
    });
  }

  revocationFeed(up: boolean): void {
    this.revocationFeedUp.set(up ? 1 : 0);
  }

  revocationsLearned(count: number): void {
    this.revocationsReceived.inc(count);
  }

  callFinished(method: string, code: status, seconds: number): void {
    let byCode = this.callDurations.get(method);
    if (byCode === undefined) {
      byCode = [];
      this.callDurations.set(method, byCode);
    }
    let observe = byCode[code];
    if (observe === undefined) {
      observe = this.callDuration.bind({ method, code: status[code] });
      byCode[code] = observe;
    }
    observe(seconds);
  }

  streamsEndedByRevocation(count: number): void {
    this.revokedStreams.inc(count);
  }

  callRefused(reason: string): void {
    this.callsRefused.inc({ reason });
  }

  /** Durations per command and per journal fsync, from the command loop. */
  readonly observer: CommandObserver = {
    commandCompleted: (kind: CommandKind, ok: boolean, latencySeconds: number): void => {
      let observers = this.commandDurations.get(kind);
      if (observers === undefined) {
        observers = [this.commandDuration.bind({ kind, outcome: 'accepted' }), this.commandDuration.bind({ kind, outcome: 'rejected' })];
        this.commandDurations.set(kind, observers);
      }
      observers[ok ? 0 : 1](latencySeconds);
      if (ok && kind === 'placeLimit') this.unscrapedOrders.limit += 1;
      if (ok && kind === 'placeMarket') this.unscrapedOrders.market += 1;
    },
    journalSynced: (seconds: number): void => {
      this.journalSync.observe(seconds);
    },
  };

  /** The configured bounds, beside the gauges they bound (so that alerts can compare). */
  bounds(limits: { readonly maxQueueDepth: number; readonly streamMemoryBudgetBytes: number; readonly diskReserveBytes: number }): void {
    this.queueLimit.set(limits.maxQueueDepth);
    this.streamBudget.set(limits.streamMemoryBudgetBytes);
    this.diskReserve.set(limits.diskReserveBytes);
  }

  watchFreeDisk(read: () => number): void {
    this.freeDisk = read;
  }

  watchQueueDepth(read: () => number): void {
    this.queueDepth = read;
  }

  countEvents(events: readonly EngineEvent[]): void {
    for (const event of events) {
      if (event.type === 'trade') this.unscrapedTrades.set(event.trade.market, (this.unscrapedTrades.get(event.trade.market) ?? 0) + 1);
    }
  }

  commandRejected(code: status): void {
    this.rejected.inc({ code: status[code] });
  }

  streamOpened(stream: StreamName): void {
    this.subscribers.inc({ stream });
  }

  streamClosed(stream: StreamName): void {
    this.subscribers.dec({ stream });
  }

  slowConsumer(stream: StreamName): void {
    this.slowConsumers.inc({ stream });
  }

  streamRefused(stream: StreamName): void {
    this.refusedStreams.inc({ stream });
  }

  bookConflated(): void {
    this.bookConflations.inc();
  }

  watchStreamBuffers(buffered: () => number): void {
    this.streamBuffered = buffered;
  }
}
