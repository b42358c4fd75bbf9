/**
 * Main thread or worker thread for the engine? Applies the same command inputs (a seeded random
 * load) three ways and prints the cost per command:
 *   main      sequence + apply on this thread (what the command loop does)
 *   worker-1  one postMessage round trip per command to an engine in a worker (a caller awaiting
 *             each answer, as a unary RPC does)
 *   worker-N  the same with BATCH commands per message (the best case for a worker)
 * Run: node --conditions=orderbook-ts --import tsx services/matching/bench/loop-bench.ts [commands]
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Engine, type CommandResult } from '@orderbook/engine';
import type { CommandInput } from '../src/loop/command-loop-api';
import { Sequencer } from '../src/loop/sequencer';
import { LOAD_ENGINE_CONFIG, RandomLoad } from '../test/random-load';

const COMMANDS = Number(process.argv[2] ?? 200_000);
const BATCH = 256;

/** The load's inputs, generated once against a scratch engine so that its cancels name real orders. */
function generateInputs(): CommandInput[] {
  const engine = new Engine(LOAD_ENGINE_CONFIG);
  const sequencer = new Sequencer({ lastSeq: 0, lastTimestamp: 0 });
  const load = new RandomLoad(42);
  return Array.from({ length: COMMANDS }, () => {
    const input = load.next();
    load.observe(input, engine.apply(sequencer.next(input)));
    return input;
  });
}

function onMainThread(inputs: readonly CommandInput[]): number {
  const engine = new Engine(LOAD_ENGINE_CONFIG);
  const sequencer = new Sequencer({ lastSeq: 0, lastTimestamp: 0 });
  const started = performance.now();
  for (const input of inputs) engine.apply(sequencer.next(input));
  return performance.now() - started;
}

async function onWorker(inputs: readonly CommandInput[], perMessage: number): Promise<number> {
  // Workers do not inherit tsx's loader for .ts files; register its require hook first.
  const script = `require('tsx/cjs'); require(${JSON.stringify(join(__dirname, 'engine-worker.ts'))});`;
  const worker = new Worker(script, { eval: true, workerData: LOAD_ENGINE_CONFIG });
  const roundTrip = (chunk: readonly CommandInput[]): Promise<CommandResult[]> =>
    new Promise((resolve) => worker.once('message', resolve).postMessage(chunk));
  await roundTrip([]);
  const started = performance.now();
  for (let i = 0; i < inputs.length; i += perMessage) await roundTrip(inputs.slice(i, i + perMessage));
  const elapsed = performance.now() - started;
  await worker.terminate();
  return elapsed;
}

function report(mode: string, ms: number): void {
  const perCommandUs = ((ms * 1000) / COMMANDS).toFixed(2);
  const throughput = Math.round(COMMANDS / (ms / 1000)).toLocaleString('en');
  console.log(`${mode.padEnd(10)} ${perCommandUs.padStart(8)} µs/command  ${throughput.padStart(12)} commands/s`);
}

async function main(): Promise<void> {
  const inputs = generateInputs();
  console.log(`${COMMANDS.toLocaleString('en')} commands, node ${process.version}`);
  onMainThread(inputs);
  report('main', onMainThread(inputs));
  report('worker-1', await onWorker(inputs, 1));
  report(`worker-${BATCH}`, await onWorker(inputs, BATCH));
}

void main();
