import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';

/** Where the replicated log lives and how it is kept. */
export interface JetStreamLogOptions {
  /** NATS server URLs (nats://host:port), any of the cluster. */
  readonly servers: readonly string[];
  /** The stream; created with these settings if missing. */
  readonly stream: string;
  /** Copies of each message the stream keeps (a quorum of them must store it before it is acked). */
  readonly replicas: number;
  /** Credentials, when the NATS servers require a user and password. */
  readonly user?: string;
  readonly password?: string;
  /** How long a publish may wait for its ack; past it the outcome is unknown. */
  readonly publishTimeoutMs?: number;
}

/** One stored message: its stream sequence and payload. */
export interface LogEntry {
  readonly streamSeq: number;
  readonly data: Uint8Array;
}

/** The stream holds messages firstSeq..lastSeq (lastSeq 0: it never held any). */
export interface LogBounds {
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/**
 * The stream's last sequence was not the one the append expected: another writer appended since
 * (this process was deposed, or paused past its lease). Nothing was stored.
 */
export class LogFencedError extends Error {
  override readonly name = 'LogFencedError';
}

/** A read got neither a message nor the end of its fetch for too long; reading again uses a new consumer. */
export class LogReadStalledError extends Error {
  override readonly name = 'LogReadStalledError';
}

const DEFAULT_PUBLISH_TIMEOUT_MS = 5_000;
/** Publishes carrying an msgID seen within this window are dropped as duplicates by the stream. */
const DUPLICATE_WINDOW_MS = 120_000;
/** Messages asked for at once when reading. */
const FETCH_BATCH = 256;
const FETCH_EXPIRES_MS = 2_000;
/**
 * Longest silence accepted from a fetch before it is given up: a live consumer delivers a message
 * or ends the request within FETCH_EXPIRES_MS (the margin is for a loaded machine). nats.js alone
 * does not bound it: when the connection drops while a fetch is pending, it stops watching the
 * heartbeats until the consumer's info answers again, which, for this R1 consumer whose server
 * was the one lost, is not before that server is back: the fetch waits in silence meanwhile.
 */
const FETCH_SILENCE_MS = 5 * FETCH_EXPIRES_MS;
/** A reading consumer left behind (a crash) is deleted by the server after this idle time. */
const READER_INACTIVE_MS = 30_000;

/**
 * A JetStream stream used as an append-only log with optimistic concurrency: every append names
 * the sequence it expects to be last, so two writers can never both append after the same entry.
 * Knows nothing of commands: payloads are opaque bytes.
 */
export class JetStreamLog {
  readonly subject: string;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamLogOptions,
  ) {
    this.subject = `${options.stream}.commands`;
  }

  /** Connects and makes sure the stream exists (file storage, the replicas asked for, the duplicate window). */
  static async open(options: JetStreamLogOptions): Promise<JetStreamLog> {
    const nc = await connect({
      servers: [...options.servers],
      name: 'orderbook-matching',
      maxReconnectAttempts: -1,
      ...(options.user === undefined ? {} : { user: options.user, pass: options.password ?? '' }),
    });
    try {
      const jsm = await jetstreamManager(nc);
      const log = new JetStreamLog(nc, jetstream(nc), jsm, options);
      await log.ensureStream();
      return log;
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  private async ensureStream(): Promise<void> {
    const { stream, replicas } = this.options;
    try {
      const info = await this.jsm.streams.info(stream);
      if (info.config.num_replicas !== replicas) {
        throw new Error(`stream ${stream} keeps ${info.config.num_replicas} replicas, but ${replicas} were configured`);
      }
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
      await this.jsm.streams.add({
        name: stream,
        subjects: [this.subject],
        storage: StorageType.File,
        num_replicas: replicas,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      });
    }
  }

  /** The connection, for other state kept on the same NATS servers (the leader lease). */
  get connection(): NatsConnection {
    return this.nc;
  }

  async bounds(): Promise<LogBounds> {
    const { state } = await this.jsm.streams.info(this.options.stream);
    return { firstSeq: state.first_seq, lastSeq: state.last_seq };
  }

  /** The message at streamSeq (undefined if the stream does not hold it). */
  async get(streamSeq: number): Promise<LogEntry | undefined> {
    const stored = await this.jsm.streams.getMessage(this.options.stream, { seq: streamSeq });
    return stored === null ? undefined : { streamSeq: stored.seq, data: stored.data };
  }

  /**
   * Stores data as the message after expectedLastSeq and resolves with its stream sequence once a
   * quorum of replicas stored it. Rejects with LogFencedError if the stream's last sequence is
   * another; any other rejection (a timeout above all) leaves the outcome unknown.
   */
  async append(data: Uint8Array, expectedLastSeq: number, msgID: string): Promise<number> {
    try {
      const ack = await this.js.publish(this.subject, data, {
        msgID,
        expect: { lastSequence: expectedLastSeq },
        timeout: this.options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
      });
      if (ack.duplicate) throw new Error(`the stream took message ${msgID} as a duplicate of seq ${ack.seq}`);
      return ack.seq;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) {
        throw new LogFencedError(`stream ${this.options.stream} has moved past seq ${expectedLastSeq}: another writer appended`, { cause: err });
      }
      throw err;
    }
  }

  /** Removes the messages before streamSeq (retention); resolves with how many went. */
  async dropBefore(streamSeq: number): Promise<number> {
    const { purged } = await this.jsm.streams.purge(this.options.stream, { seq: streamSeq });
    return purged;
  }

  /**
   * The messages fromSeq..toSeq in order, through a consumer of this reader's own. Rejects with
   * LogReadStalledError when a fetch stays silent past FETCH_SILENCE_MS (its consumer's server is gone).
   */
  async *read(fromSeq: number, toSeq: number): AsyncGenerator<LogEntry> {
    if (fromSeq > toSeq) return;
    const info = await this.jsm.consumers.add(this.options.stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: fromSeq,
      inactive_threshold: nanos(READER_INACTIVE_MS),
      mem_storage: true,
      num_replicas: 1,
    });
    try {
      const consumer = await this.js.consumers.get(this.options.stream, info.name);
      let next = fromSeq;
      while (next <= toSeq) {
        const messages = await consumer.fetch({ max_messages: Math.min(FETCH_BATCH, toSeq - next + 1), expires: FETCH_EXPIRES_MS });
        const silence = new SilenceLimit(FETCH_SILENCE_MS, () =>
          messages.stop(new LogReadStalledError(`reading stream ${this.options.stream}: nothing arrived for ${FETCH_SILENCE_MS} ms after seq ${next - 1} (up to ${toSeq} expected; the consumer's NATS server may be gone)`)),
        );
        let received = 0;
        try {
          silence.start();
          for await (const msg of messages) {
            // Not counted while the caller works on what was yielded.
            silence.stop();
            received += 1;
            if (msg.seq > toSeq) break;
            next = msg.seq + 1;
            yield { streamSeq: msg.seq, data: msg.data };
            silence.start();
          }
        } finally {
          silence.stop();
        }
        if (received === 0) throw new Error(`reading stream ${this.options.stream}: nothing arrived after seq ${next - 1} (up to ${toSeq} expected)`);
      }
    } finally {
      await this.jsm.consumers.delete(this.options.stream, info.name).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

/** Calls onSilence once a started period runs past limitMs without being stopped. */
class SilenceLimit {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limitMs: number,
    private readonly onSilence: () => void,
  ) {}

  start(): void {
    this.stop();
    this.timer = setTimeout(this.onSilence, this.limitMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
