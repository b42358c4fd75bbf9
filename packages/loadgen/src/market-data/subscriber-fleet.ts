import * as grpc from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';
import type { FleetCommand, FleetStats, OpenFleet } from './fleet-protocol';

/**
 * The subscriber side of `make bench-subscribers`, run as a child process: opens book streams
 * (readers and never-reading idle ones) over several connections, samples the head of the book
 * once a second with GetOrderBook, and measures how long each reader takes to receive a message
 * at or past each sample.
 */
const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': 64 << 20 };
const SAMPLE_EVERY_MS = 1000;

interface Sample {
  readonly at: number;
  readonly seq: number;
  /** Readers that have not yet reached seq. */
  pending: number;
  /** When the last of them did. */
  doneAt?: number;
}

class Fleet {
  private readonly clients: matching.MatchingServiceClient[];
  private readonly calls: grpc.ClientReadableStream<matching.StreamOrderBookResponse>[] = [];
  private readonly samples: Sample[] = [];
  /** Per reader, the index of the first sample it has not reached. */
  private readonly nextSample: number[] = [];
  private readonly ended: Record<string, number> = {};
  private readersStarted = 0;
  private activeReaders = 0;
  private messages = 0;
  private sampler: NodeJS.Timeout | undefined;

  constructor(private readonly spec: OpenFleet) {
    this.clients = Array.from({ length: spec.channels }, () => new matching.MatchingServiceClient(spec.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS));
  }

  open(): void {
    for (let i = 0; i < this.spec.readers; i++) this.openReader(i);
    for (let i = 0; i < this.spec.idle; i++) {
      const call = this.client(this.spec.readers + i).streamOrderBook({ market: this.spec.market, depth: 10 });
      // Read the snapshot, then never again: grpc-js keeps taking (and buffering) messages for a
      // stream that was never read at all, so only a stream paused after a read pushes back.
      call.once('data', () => call.pause());
      call.on('error', (err: grpc.ServiceError) => this.countEnd(err.code));
      this.calls.push(call);
    }
    this.sampler = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
  }

  private client(index: number): matching.MatchingServiceClient {
    const client = this.clients[index % this.clients.length];
    if (client === undefined) throw new Error('fleet: no channel');
    return client;
  }

  private openReader(index: number): void {
    const call = this.client(index).streamOrderBook({ market: this.spec.market, depth: 10 });
    let started = false;
    this.nextSample[index] = this.samples.length;
    this.activeReaders += 1;
    call.on('data', (message: matching.StreamOrderBookResponse) => {
      this.messages += 1;
      if (!started) {
        started = true;
        this.readersStarted += 1;
      }
      this.reached(index, Number(message.sequence));
    });
    call.on('error', (err: grpc.ServiceError) => {
      this.activeReaders -= 1;
      this.countEnd(err.code);
    });
    this.calls.push(call);
  }

  private reached(index: number, seq: number): void {
    let next = this.nextSample[index] ?? 0;
    const now = performance.now();
    for (let sample = this.samples[next]; sample !== undefined && sample.seq <= seq; sample = this.samples[++next]) {
      sample.pending -= 1;
      if (sample.pending === 0) sample.doneAt = now;
    }
    this.nextSample[index] = next;
  }

  private countEnd(code: grpc.status): void {
    const name = grpc.status[code] ?? String(code);
    this.ended[name] = (this.ended[name] ?? 0) + 1;
  }

  private sample(): void {
    // Steady state only: a sample taken while streams are still opening would time their start.
    if (this.readersStarted < this.spec.readers) return;
    const at = performance.now();
    const client = this.client(0);
    client.getOrderBook({ market: this.spec.market, depth: 1 }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, book) => {
      if (err !== null || this.activeReaders === 0) return;
      // The sample counts from when it was asked: a reader is only as late as the head it was measured against.
      this.samples.push({ at, seq: Number(book.sequence), pending: this.activeReaders });
    });
  }

  stats(): FleetStats {
    const now = performance.now();
    const finished = this.samples.filter((s) => s.doneAt !== undefined).map((s) => (s.doneAt ?? 0) - s.at);
    finished.sort((a, b) => a - b);
    const quantile = (q: number): number => (finished.length === 0 ? 0 : (finished[Math.min(finished.length - 1, Math.ceil(q * finished.length) - 1)] ?? 0));
    const stale = this.samples.filter((s) => s.doneAt === undefined && now - s.at > 1000);
    return {
      type: 'stats',
      readersStarted: this.readersStarted,
      ended: { ...this.ended },
      messages: this.messages,
      samples: finished.length,
      catchUpMs: { p50: round(quantile(0.5)), p99: round(quantile(0.99)), max: round(finished.at(-1) ?? 0) },
      readersBehindOneSecond: stale.reduce((most, s) => Math.max(most, s.pending), 0),
      fleetRssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    };
  }

  close(): void {
    clearInterval(this.sampler);
    for (const call of this.calls) call.cancel();
    for (const client of this.clients) client.close();
  }
}

function round(ms: number): number {
  return Math.round(ms);
}

let fleet: Fleet | undefined;
process.on('message', (command: FleetCommand) => {
  switch (command.type) {
    case 'open':
      fleet = new Fleet(command);
      fleet.open();
      process.send?.({ type: 'opened' });
      return;
    case 'stats':
      if (fleet !== undefined) process.send?.(fleet.stats());
      return;
    case 'close':
      fleet?.close();
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
