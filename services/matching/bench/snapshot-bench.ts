/**
 * What a snapshot costs the command loop, with --orders resting orders (default 1,000,000):
 *   build     the engine with that book (direct applies), its memory per resting order after GC
 *   replica   the snapshot replica (a second engine in a worker thread, which takes the command
 *             loop's snapshots) of the engine just built: seeding it (SnapshotReplica.start, which
 *             encodes the engine on the loop; a start from a data directory seeds it from what
 *             recovery read instead: see "open"), the time until it restored its copy, and the
 *             resident memory it adds
 *   file      encode + write + fsync (the replica's work, off the loop), the file's bytes,
 *             read + verify, restore (Engine.restore with its invariant checks)
 *   open      openCommandLoop on that snapshot: recovery (read, Engine.restore) and the replica's seed,
 *             then the time until the replica restored it in its thread
 *   loop      a steady client (one caller, sequential deposits) on that command loop,
 *             first with no snapshot due, then with one due every --every commands: the
 *             longest event-loop delay (perf_hooks.monitorEventLoopDelay) and the longest gap between
 *             two acknowledgements, each phase beside the other
 *   during    in the phase with snapshots, each snapshot's window (from the loop asking for it until it
 *             is durable and pruned) against the rest: the loop's own synchronous time starting each
 *             snapshot, the longest event-loop delay and acknowledgement gap inside and outside the
 *             windows, and the share of time the loop's thread spent waiting for a core (Linux schedstat:
 *             a delay with the thread off-core is the machine's load, not work on the loop)
 * Run: make bench-snapshot ARGS="--orders 1000000 --every 1000 --seconds 10"
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Engine, type Command } from '@orderbook/engine';
import { createLogger, type Logger } from '@orderbook/server-kit';
import pino from 'pino';
import { listSnapshots } from '../src/storage/data-files';
import type { CommandObserver } from '../src/loop/command-loop-api';
import { openCommandLoop } from '../src/loop/open-command-loop';
import { SnapshotReplica } from '../src/loop/snapshot-replica';
import { readSnapshot } from '../src/storage/snapshot-store';
import { LOAD_ENGINE_CONFIG } from '../test/random-load';

const { values: args } = parseArgs({
  options: { orders: { type: 'string', default: '1000000' }, every: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '10' } },
});
const ORDERS = Number(args.orders);
const SNAPSHOT_EVERY = Number(args.every);
const PHASE_SECONDS = Number(args.seconds);
const USERS = 1_000;
const logger = createLogger('snapshot-bench', 'warn');

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function rssBytes(): number {
  gc();
  return process.memoryUsage().rss;
}

function heapBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** An engine with ORDERS resting orders that do not cross: bids below 30,000, asks above. */
function bookWithRestingOrders(): Engine {
  const engine = new Engine(LOAD_ENGINE_CONFIG);
  let seq = 0;
  const apply = (cmd: Command): void => {
    const result = engine.apply(cmd);
    if (!result.ok) throw new Error(`seq ${cmd.seq}: ${result.error.message}`);
  };
  const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
  for (const userId of users) {
    apply({ kind: 'deposit', seq: ++seq, timestamp: seq, userId, asset: 'USD', amount: 10n ** 15n });
    apply({ kind: 'deposit', seq: ++seq, timestamp: seq, userId, asset: 'BTC', amount: 10n ** 15n });
  }
  for (let i = 0; i < ORDERS; i++) {
    const buy = i % 2 === 0;
    const ticks = BigInt(1 + (i % 5_000));
    apply({
      kind: 'placeLimit', seq: ++seq, timestamp: seq, orderId: seq, userId: users[i % users.length]!, market: 'BTC-USD',
      side: buy ? 'buy' : 'sell', price: buy ? 30_000_000_000n - ticks * 1_000_000n : 30_000_000_000n + ticks * 1_000_000n,
      quantity: 1_000_000n + BigInt(i % 97), timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting',
      ...(i % 10 === 0 ? { clientOrderId: `c-${i}` } : {}),
    });
  }
  return engine;
}

interface LoopPhase {
  readonly acks: number;
  readonly maxAckGapMs: number;
  readonly p99AckGapMs: number;
  readonly maxLoopDelayMs: number;
  readonly snapshots: number;
  readonly inside: Stretch;
  readonly outside: Stretch;
  /** The loop's own synchronous time starting each snapshot of the phase (the replica's take), in ms. */
  readonly startMs: readonly number[];
  /** openCommandLoop (recovery and the replica's seed), then until the replica restored the seed, in ms. */
  readonly openMs: number;
  /** The loop's thread's time on a core during openCommandLoop (schedstat), in ms. */
  readonly openOnCoreMs: number;
  readonly replicaReadyMs: number;
}

/** The part of a phase inside snapshot windows, or outside them. */
interface Stretch {
  readonly ms: number;
  readonly maxLoopDelayMs: number;
  readonly maxAckGapMs: number;
  /** The loop's thread over the stretch: on a core, and runnable but waiting for one (schedstat), in ms. */
  readonly runMs: number;
  readonly waitMs: number;
}

/**
 * The calling thread's time on a core and waiting for one since it started, in ms (Linux; zeros
 * elsewhere). The kernel adds to them at scheduler ticks and switches: right to a few ms, so only
 * spans of a second or more are measured with it.
 */
function threadSchedule(): { readonly runMs: number; readonly waitMs: number } {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return { runMs: run! / 1e6, waitMs: wait! / 1e6 };
  } catch {
    return { runMs: 0, waitMs: 0 };
  }
}

/** Time, loop delays, ack gaps and scheduling of the loop's thread, summed over the stretches it is enabled for. */
class StretchMeter {
  private ms = 0;
  private runMs = 0;
  private waitMs = 0;
  private maxLoopDelayMs = 0;
  private maxAckGapMs = 0;
  private since: { readonly at: number; readonly runMs: number; readonly waitMs: number; readonly delay: IntervalHistogram } | undefined;

  enable(): void {
    // A histogram per stretch: one disabled and enabled again counts the time in between as a delay.
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    this.since = { at: performance.now(), ...threadSchedule(), delay };
  }

  disable(): void {
    if (this.since === undefined) return;
    const { delay } = this.since;
    delay.disable();
    if (delay.count > 0) this.maxLoopDelayMs = Math.max(this.maxLoopDelayMs, delay.max / 1e6);
    const now = threadSchedule();
    this.ms += performance.now() - this.since.at;
    this.runMs += now.runMs - this.since.runMs;
    this.waitMs += now.waitMs - this.since.waitMs;
    this.since = undefined;
  }

  ackGap(ms: number): void {
    this.maxAckGapMs = Math.max(this.maxAckGapMs, ms);
  }

  stretch(): Stretch {
    this.disable();
    return { ms: this.ms, maxLoopDelayMs: this.maxLoopDelayMs, maxAckGapMs: this.maxAckGapMs, runMs: this.runMs, waitMs: this.waitMs };
  }
}

/** One caller submitting deposits one after the other for PHASE_SECONDS on a loop recovered from dataDir. */
async function steadyClient(dataDir: string, snapshotEvery: number): Promise<LoopPhase> {
  const replicaLogger = countingLogger('the snapshot replica restored its seed');
  const inside = new StretchMeter();
  const outside = new StretchMeter();
  const startMs: number[] = [];
  let measuring = false;
  // Windows opened since the last acknowledgement, and whether one is open: a gap that saw one counts inside.
  let windowsOpened = 0;
  let windowOpen = false;
  const observer: CommandObserver = {
    commandCompleted: () => undefined,
    snapshotStarted: () => {
      if (!measuring) return;
      outside.disable();
      inside.enable();
      windowOpen = true;
      windowsOpened += 1;
    },
    snapshotEnded: (_seq, loopSeconds) => {
      if (!windowOpen) return;
      windowOpen = false;
      // Counted even when it ends after the phase (the loop's own part was inside it).
      startMs.push(loopSeconds * 1000);
      if (!measuring) return;
      inside.disable();
      outside.enable();
    },
  };
  const opening = performance.now();
  const openingSchedule = threadSchedule();
  const loop = await openCommandLoop({ dataDir, engineConfig: LOAD_ENGINE_CONFIG, maxQueueDepth: 1_000, snapshotEvery, logger: replicaLogger.logger, observer });
  const openMs = performance.now() - opening;
  const openOnCoreMs = threadSchedule().runMs - openingSchedule.runMs;
  // The steady state: the replica restores its seed while the loop serves (after a restart); wait for it.
  while (replicaLogger.count() === 0) await sleep(10);
  const replicaReadyMs = performance.now() - opening;
  const before = new Set((await listSnapshots(dataDir)).map((f) => f.seq));
  const written = new Set<number>();
  const watch = setInterval(() => void listSnapshots(dataDir).then((files) => files.forEach((f) => before.has(f.seq) || written.add(f.seq))), 50);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const gaps: number[] = [];
  delay.enable();
  measuring = true;
  outside.enable();
  const end = performance.now() + PHASE_SECONDS * 1000;
  let last = performance.now();
  while (last < end) {
    await loop.submit({ kind: 'deposit', userId: 'user-1', asset: 'USD', amount: 1n });
    const now = performance.now();
    gaps.push(now - last);
    (windowOpen || windowsOpened > 0 ? inside : outside).ackGap(now - last);
    windowsOpened = 0;
    last = now;
  }
  measuring = false;
  delay.disable();
  clearInterval(watch);
  const phase = { inside: inside.stretch(), outside: outside.stretch() };
  await loop.close();
  gaps.sort((a, b) => a - b);
  return {
    acks: gaps.length,
    maxAckGapMs: gaps.at(-1)!,
    p99AckGapMs: gaps[Math.floor(gaps.length * 0.99)]!,
    maxLoopDelayMs: delay.max / 1e6,
    snapshots: written.size,
    ...phase,
    startMs,
    openMs,
    openOnCoreMs,
    replicaReadyMs,
  };
}

function describeStretch(stretch: Stretch): string {
  const share = (ms: number): string => `${((100 * ms) / Math.max(stretch.ms, 1e-9)).toFixed(0)} %`;
  return (
    `${(stretch.ms / 1000).toFixed(1)} s: longest event-loop delay ${stretch.maxLoopDelayMs.toFixed(2)} ms, ack gap max ${stretch.maxAckGapMs.toFixed(2)} ms; ` +
    `the loop's thread on a core ${share(stretch.runMs)}, waiting for one ${share(stretch.waitMs)} of the time`
  );
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** A logger at level info that writes nothing and counts the messages equal to `message`. */
function countingLogger(message: string): { readonly logger: Logger; readonly count: () => number } {
  let seen = 0;
  const logger = pino({ level: 'info' }, { write: (line: string) => void (JSON.parse(line).msg === message && seen++) });
  return { logger, count: () => seen };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-bench-'));
  try {
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}`);
    const heapBefore = heapBytes();
    let started = performance.now();
    const engine = bookWithRestingOrders();
    const buildSeconds = (performance.now() - started) / 1000;
    const perOrder = (heapBytes() - heapBefore) / ORDERS;
    console.log(`build     ${ORDERS.toLocaleString('en')} resting orders of ${USERS} users in ${buildSeconds.toFixed(1)} s; ${perOrder.toFixed(0)} B per resting order (heap + array buffers after GC)`);

    const rssBefore = rssBytes();
    started = performance.now();
    const replica = SnapshotReplica.start(engine, LOAD_ENGINE_CONFIG, logger);
    const seedMs = performance.now() - started;
    // The first take waits for the replica's restore of the seed.
    await replica.take(engine.lastSeq(), engine.lastSeq(), dir);
    const readyMs = performance.now() - started;
    const replicaBytes = rssBytes() - rssBefore;
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    started = performance.now();
    const taken = replica.take(engine.lastSeq(), engine.lastSeq(), dir);
    const takeLoopMs = performance.now() - started;
    await taken;
    const takeMs = performance.now() - started;
    delay.disable();
    await replica.close();
    console.log(
      `replica   seed (Engine.snapshot on the loop, once at start) ${seedMs.toFixed(0)} ms; restored in its thread and first snapshot written after ${readyMs.toFixed(0)} ms; ` +
        `resident memory +${(replicaBytes / 2 ** 20).toFixed(0)} MiB (${(replicaBytes / ORDERS).toFixed(0)} B per order)`,
    );
    const [file] = await listSnapshots(dir);
    started = performance.now();
    const read = await readSnapshot(file!);
    const readMs = performance.now() - started;
    started = performance.now();
    const cpu = process.cpuUsage();
    const restored = Engine.restore(LOAD_ENGINE_CONFIG, read.engineState);
    const restoreMs = performance.now() - started;
    const cpuUsed = process.cpuUsage(cpu);
    const restoreCpuMs = (cpuUsed.user + cpuUsed.system) / 1000;
    const same = restored.stateHash() === engine.stateHash() && Buffer.from(read.engineState).equals(engine.snapshot());
    console.log(
      `file      encode + write + fsync in the replica's thread ${takeMs.toFixed(0)} ms (the loop's own time asking for it ${(takeLoopMs * 1000).toFixed(0)} µs; ` +
        `longest event-loop delay meanwhile ${(delay.max / 1e6).toFixed(1)} ms); ` +
        `${(statSync(file!.path).size / 2 ** 20).toFixed(1)} MiB (${(statSync(file!.path).size / ORDERS).toFixed(0)} B per order); ` +
        `read + verify ${readMs.toFixed(0)} ms; Engine.restore ${restoreMs.toFixed(0)} ms (CPU ${restoreCpuMs.toFixed(0)} ms); same bytes as the engine's and restored stateHash equal: ${same}`,
    );

    const quiet = await steadyClient(dir, 1_000_000_000);
    const snapshotting = await steadyClient(dir, SNAPSHOT_EVERY);
    for (const [name, phase] of [['no snapshot due', quiet], [`snapshot every ${SNAPSHOT_EVERY.toLocaleString('en')}`, snapshotting]] as const) {
      console.log(
        `open      ${name.padEnd(22)} openCommandLoop (recovery, the replica's seed) ${phase.openMs.toFixed(0)} ms (its thread on a core ${phase.openOnCoreMs.toFixed(0)} ms); the replica restored its seed after ${phase.replicaReadyMs.toFixed(0)} ms`,
      );
      console.log(
        `loop      ${name.padEnd(22)} ${phase.acks.toLocaleString('en')} acks in ${PHASE_SECONDS} s (${phase.snapshots} snapshots written meanwhile, one more at close); ` +
          `ack gap p99 ${phase.p99AckGapMs.toFixed(2)} ms, max ${phase.maxAckGapMs.toFixed(2)} ms; longest event-loop delay ${phase.maxLoopDelayMs.toFixed(2)} ms`,
      );
    }
    const { startMs } = snapshotting;
    console.log(
      `during    ${startMs.length} snapshots asked for: the loop's own time starting each median ${(median(startMs) * 1000).toFixed(0)} µs, max ${(Math.max(0, ...startMs) * 1000).toFixed(0)} µs; ` +
        `inside their windows ${describeStretch(snapshotting.inside)}`,
    );
    console.log(`during    outside the windows ${describeStretch(snapshotting.outside)}; the phase with no snapshot due ${describeStretch(quiet.outside)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
