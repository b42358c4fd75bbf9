/**
 * Costs of durability, printed as a table:
 *   group commit  throughput, fsyncs and batch sizes, latency, for C concurrent callers
 *   codec         journal encoding + decoding per command: the binary records beside the JSON ones of earlier versions
 *   replay        recovery speed of a journal with no snapshot
 * (Snapshots: snapshot-bench.ts, make bench-snapshot.)
 * Run: node --conditions=orderbook-ts --import tsx services/matching/bench/durability-bench.ts [codec]
 * (with "codec", only that phase).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type Command } from '@orderbook/engine';
import { decodeBatch, encodeBatch, encodeCommand } from '../src/storage/command-codec';
import { Sequencer } from '../src/loop/sequencer';
import { recoverDataDir } from '../test/helpers';
import { openHarness } from '../test/loop-harness';
import { LOAD_ENGINE_CONFIG, RandomLoad } from '../test/random-load';

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
  // The JSON records of earlier versions, as they were written (bigints as decimal strings), as
  // the baseline: each encoding once to warm up the JIT, then measured in batches of BATCH.
  const json = (cmd: Command): string => {
    switch (cmd.kind) {
      case 'placeLimit':
        return JSON.stringify({ ...cmd, price: cmd.price.toString(), quantity: cmd.quantity.toString() });
      case 'placeMarket':
        return JSON.stringify({ ...cmd, quantity: cmd.quantity.toString() });
      case 'deposit':
      case 'withdraw':
        return JSON.stringify({ ...cmd, amount: cmd.amount.toString() });
      case 'amend':
        return JSON.stringify({ ...cmd, price: cmd.price?.toString(), quantity: cmd.quantity?.toString() });
      case 'placeOco':
        return JSON.stringify({ ...cmd, price: cmd.price.toString(), quantity: cmd.quantity.toString(), stopPrice: cmd.stopPrice.toString(), stopLimitPrice: cmd.stopLimitPrice?.toString() });
      case 'cancel':
      case 'cancelAll':
      case 'expire':
      case 'cancelAllAfter':
      case 'cancelSession':
      case 'configure':
        return JSON.stringify(cmd);
    }
  };
  const jsonBatch = (batch: readonly Command[]): Buffer => Buffer.from(`[${batch.map(json).join(',')}]`);
  const binaryBatch = (batch: readonly Command[]): Buffer => encodeBatch(batch.map(encodeCommand));
  for (const [name, encode] of [['JSON  ', jsonBatch], ['binary', binaryBatch]] as const) {
    for (const size of [1, 64]) {
      encode(commands.slice(0, 1_000));
      let started = performance.now();
      const payloads: Buffer[] = [];
      for (let i = 0; i < commands.length; i += size) payloads.push(encode(commands.slice(i, i + size)));
      const encodeUs = ((performance.now() - started) * 1000) / commands.length;
      started = performance.now();
      for (const payload of payloads) decodeBatch(payload);
      const decodeUs = ((performance.now() - started) * 1000) / commands.length;
      const bytes = payloads.reduce((n, p) => n + p.length, 0) / commands.length;
      console.log(`codec         ${name} batches of ${String(size).padStart(2)}: encode ${encodeUs.toFixed(2)} µs, decode ${decodeUs.toFixed(2)} µs, ${bytes.toFixed(0)} bytes per command`);
    }
  }
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
    if (process.argv[2] === 'codec') {
      codec();
      return;
    }
    for (const callers of [1, 16, 256]) await groupCommit(callers, 20_000);
    codec();
    await replay(200_000);
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

void main();
