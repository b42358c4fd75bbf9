/**
 * What a snapshot costs the command loop, with --orders resting orders (default 1,000,000):
 *   build     the engine with that book (direct applies), its memory per resting order after GC
 *   replica   the snapshot replica (a second engine in a worker thread, which takes the command
 *             loop's snapshots): seeding it (Engine.snapshot on the loop, once, at start), the time
 *             until it restored its copy, and the resident memory it adds
 *   file      encode + write + fsync (the replica's work, off the loop), the file's bytes,
 *             read + verify, restore (Engine.restore with its invariant checks)
 *   loop      a steady client (one caller, sequential deposits) on a command loop recovered from that
 *             snapshot, first with no snapshot due, then with one due every --every commands: the
 *             longest event-loop delay (perf_hooks.monitorEventLoopDelay) and the longest gap between
 *             two acknowledgements, each phase beside the other
 * Run: make bench-snapshot ARGS="--orders 1000000 --every 1000 --seconds 10"
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Engine, type Command } from '@orderbook/engine';
import { createLogger, type Logger } from '@orderbook/server-kit';
import pino from 'pino';
import { listSnapshots } from '../src/storage/data-files';
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
}

/** One caller submitting deposits one after the other for PHASE_SECONDS on a loop recovered from dataDir. */
async function steadyClient(dataDir: string, snapshotEvery: number): Promise<LoopPhase> {
  const replicaLogger = countingLogger('the snapshot replica restored its seed');
  const loop = await openCommandLoop({ dataDir, engineConfig: LOAD_ENGINE_CONFIG, maxQueueDepth: 1_000, snapshotEvery, logger: replicaLogger.logger });
  // The steady state: the replica restores its seed while the loop serves (after a restart); wait for it.
  while (replicaLogger.count() === 0) await sleep(50);
  const before = new Set((await listSnapshots(dataDir)).map((f) => f.seq));
  const written = new Set<number>();
  const watch = setInterval(() => void listSnapshots(dataDir).then((files) => files.forEach((f) => before.has(f.seq) || written.add(f.seq))), 50);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const gaps: number[] = [];
  delay.enable();
  const end = performance.now() + PHASE_SECONDS * 1000;
  let last = performance.now();
  while (last < end) {
    await loop.submit({ kind: 'deposit', userId: 'user-1', asset: 'USD', amount: 1n });
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }
  delay.disable();
  clearInterval(watch);
  await loop.close();
  gaps.sort((a, b) => a - b);
  return {
    acks: gaps.length,
    maxAckGapMs: gaps.at(-1)!,
    p99AckGapMs: gaps[Math.floor(gaps.length * 0.99)]!,
    maxLoopDelayMs: delay.max / 1e6,
    snapshots: written.size,
  };
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
    await replica.take(engine.lastSeq(), engine.lastSeq(), dir);
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
      `file      encode + write + fsync in the replica's thread ${takeMs.toFixed(0)} ms (longest event-loop delay meanwhile ${(delay.max / 1e6).toFixed(1)} ms); ` +
        `${(statSync(file!.path).size / 2 ** 20).toFixed(1)} MiB (${(statSync(file!.path).size / ORDERS).toFixed(0)} B per order); ` +
        `read + verify ${readMs.toFixed(0)} ms; Engine.restore ${restoreMs.toFixed(0)} ms (CPU ${restoreCpuMs.toFixed(0)} ms); same bytes as the engine's and restored stateHash equal: ${same}`,
    );

    const quiet = await steadyClient(dir, 1_000_000_000);
    const snapshotting = await steadyClient(dir, SNAPSHOT_EVERY);
    for (const [name, phase] of [['no snapshot due', quiet], [`snapshot every ${SNAPSHOT_EVERY.toLocaleString('en')}`, snapshotting]] as const) {
      console.log(
        `loop      ${name.padEnd(22)} ${phase.acks.toLocaleString('en')} acks in ${PHASE_SECONDS} s (${phase.snapshots} snapshots written meanwhile, one more at close); ` +
          `ack gap p99 ${phase.p99AckGapMs.toFixed(2)} ms, max ${phase.maxAckGapMs.toFixed(2)} ms; longest event-loop delay ${phase.maxLoopDelayMs.toFixed(2)} ms`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
