/**
 * Costs of durability, printed as a table:
 *   group commit  throughput, fsyncs and batch sizes, latency, for C concurrent callers
 *   codec         journal encoding + decoding per command
 *   snapshot      engine.snapshot(), file write, read + restore, for ORDERS resting orders
 *   replay        recovery speed of a journal with no snapshot
 * Run: node --conditions=orderbook-ts --import tsx services/matching/bench/durability-bench.ts [restingOrders]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { Engine, type Command } from '@orderbook/engine';
import { decodeBatch, encodeBatch, encodeCommand } from '../src/storage/command-codec';
import { listSnapshots } from '../src/storage/data-files';
import { Sequencer } from '../src/loop/sequencer';
import { readSnapshot, writeSnapshot } from '../src/storage/snapshot-store';
import { recoverDataDir } from '../test/helpers';
import { openHarness } from '../test/loop-harness';
import { LOAD_ENGINE_CONFIG, RandomLoad } from '../test/random-load';

const RESTING_ORDERS = Number(process.argv[2] ?? 500_000);
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'matching-bench-'));
  dirs.push(dir);
  return dir;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function groupCommit(callers: number, commands: number): Promise<void> {
  const { loop, journal } = await openHarness(tempDir());
  const load = new RandomLoad(callers);
  const latencies: number[] = [];
  let remaining = commands;
  const caller = async (): Promise<void> => {
    while (remaining-- > 0) {
      const input = load.next();
      const started = performance.now();
      const result = await loop.submit(input);
      latencies.push(performance.now() - started);
      load.observe(input, result);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: callers }, caller));
  const seconds = (performance.now() - started) / 1000;
  const stats = journal.stats();
  await loop.close();
  latencies.sort((a, b) => a - b);
  const throughput = Math.round(commands / seconds).toLocaleString('en');
  const meanBatch = (stats.commands / stats.batches).toFixed(1);
  const [p50, p99] = [50, 99].map((p) => percentile(latencies, p).toFixed(2));
  console.log(
    `group commit  callers ${String(callers).padStart(4)}: ${throughput.padStart(7)} commands/s, ` +
      `${stats.batches} fsyncs for ${stats.commands} journaled (mean batch ${meanBatch}, ` +
      `largest ${stats.largestBatch}), latency p50 ${p50} ms p99 ${p99} ms`,
  );
}

function codec(): void {
  const engine = new Engine(LOAD_ENGINE_CONFIG);
  const load = new RandomLoad(5);
  const sequencer = new Sequencer({ lastSeq: 0, lastTimestamp: 0 });
  const commands: Command[] = [];
  while (commands.length < 100_000) {
    const input = load.next();
    const cmd = sequencer.next(input);
    load.observe(input, engine.apply(cmd));
    commands.push(cmd);
  }
  // Once to warm up the JIT, then measured.
  decodeBatch(encodeBatch(commands.map(encodeCommand)));
  const started = performance.now();
  const encoded = commands.map(encodeCommand);
  const encodedAt = performance.now();
  const payload = encodeBatch(encoded);
  decodeBatch(payload);
  const decodedAt = performance.now();
  console.log(
    `codec         JSON: encode ${(((encodedAt - started) * 1000) / commands.length).toFixed(2)} µs, ` +
      `batch + decode ${(((decodedAt - encodedAt) * 1000) / commands.length).toFixed(2)} µs, ` +
      `${(payload.length / commands.length).toFixed(0)} bytes per command`,
  );
}

/** An engine with RESTING_ORDERS orders that do not cross: bids below 30,000, asks above. */
function bookWithRestingOrders(): Engine {
  const engine = new Engine(LOAD_ENGINE_CONFIG);
  let seq = 0;
  const apply = (cmd: Command): void => {
    const result = engine.apply(cmd);
    if (!result.ok) throw new Error(`seq ${cmd.seq}: ${result.error.message}`);
  };
  const users = Array.from({ length: 1_000 }, (_, i) => `user-${i}`);
  for (const userId of users) {
    apply({ kind: 'deposit', seq: ++seq, timestamp: seq, userId, asset: 'USD', amount: 10n ** 18n });
    apply({ kind: 'deposit', seq: ++seq, timestamp: seq, userId, asset: 'BTC', amount: 10n ** 15n });
  }
  for (let i = 0; i < RESTING_ORDERS; i++) {
    const buy = i % 2 === 0;
    const ticks = BigInt(1 + (i % 5_000));
    apply({
      kind: 'placeLimit',
      seq: ++seq,
      timestamp: seq,
      orderId: seq,
      userId: users[i % users.length],
      market: 'BTC-USD',
      side: buy ? 'buy' : 'sell',
      price: (buy ? 30_000_000_000n - ticks * 1_000_000n : 30_000_000_000n + ticks * 1_000_000n),
      quantity: 1_000_000n + BigInt(i % 97),
      timeInForce: 'GTC',
      postOnly: false,
      selfTradePrevention: 'cancel_resting',
    });
  }
  return engine;
}

async function snapshot(): Promise<void> {
  let started = performance.now();
  const engine = bookWithRestingOrders();
  const builtMs = performance.now() - started;
  started = performance.now();
  const engineState = engine.snapshot();
  const captureMs = performance.now() - started;
  const dir = tempDir();
  // The write runs beside the loop; what it still blocks (checksum, string to bytes) is the
  // longest event-loop stall meanwhile.
  const stalls = monitorEventLoopDelay({ resolution: 10 });
  stalls.enable();
  started = performance.now();
  await writeSnapshot(dir, { seq: engine.lastSeq(), timestamp: 1, engineState });
  const writeMs = performance.now() - started;
  stalls.disable();
  const writeStallMs = stalls.max / 1e6;
  started = performance.now();
  const [file] = await listSnapshots(dir);
  const read = await readSnapshot(file);
  const readMs = performance.now() - started;
  started = performance.now();
  const restored = Engine.restore(LOAD_ENGINE_CONFIG, read.engineState);
  const restoreMs = performance.now() - started;
  started = performance.now();
  const same = restored.stateHash() === engine.stateHash();
  const hashMs = (performance.now() - started) / 2;
  const mib = (engineState.length / 2 ** 20).toFixed(0);
  console.log(
    `snapshot      ${RESTING_ORDERS.toLocaleString('en')} resting orders (built in ${(builtMs / 1000).toFixed(1)} s): ` +
      `${mib} MiB, engine.snapshot() ${captureMs.toFixed(0)} ms (blocks the loop), ` +
      `write + fsync ${writeMs.toFixed(0)} ms (background; longest stall ${writeStallMs.toFixed(0)} ms), ` +
      `read + verify ${readMs.toFixed(0)} ms, ` +
      `Engine.restore ${restoreMs.toFixed(0)} ms, stateHash ${hashMs.toFixed(0)} ms, restored hash equal: ${same}`,
  );
}

async function replay(commands: number): Promise<void> {
  const dataDir = tempDir();
  const { loop, journal } = await openHarness(dataDir);
  const load = new RandomLoad(9);
  let remaining = commands;
  const caller = async (): Promise<void> => {
    while (remaining-- > 0) {
      const input = load.next();
      load.observe(input, await loop.submit(input));
    }
  };
  await Promise.all(Array.from({ length: 256 }, caller));
  const lastSeq = loop.queries.lastSeq();
  // Closing the journal without loop.close() leaves no snapshot: recovery replays it all.
  await journal.close();
  const started = performance.now();
  const recovered = await recoverDataDir(dataDir);
  const seconds = (performance.now() - started) / 1000;
  if (recovered.engine.lastSeq() !== lastSeq) throw new Error('replay did not reach the journal end');
  console.log(
    `replay        ${recovered.replayedCommands.toLocaleString('en')} journaled commands in ${seconds.toFixed(2)} s: ` +
      `${Math.round(recovered.replayedCommands / seconds).toLocaleString('en')} commands/s`,
  );
}

async function main(): Promise<void> {
  try {
    for (const callers of [1, 16, 256]) await groupCommit(callers, 20_000);
    codec();
    await replay(200_000);
    await snapshot();
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

void main();
