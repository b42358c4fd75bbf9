/**
 * The engine in a worker thread, for loop-bench.ts: sequences and applies each command input it
 * is sent, as the main-thread loop does, and posts back the result (structured clone).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Engine, type EngineConfig } from '@orderbook/engine';
import type { CommandInput } from '../src/loop/command-loop-api';
import { Sequencer } from '../src/loop/sequencer';

const engine = new Engine(workerData as EngineConfig);
const sequencer = new Sequencer({ lastSeq: 0, lastTimestamp: 0 });
const port = parentPort;
if (!port) throw new Error('engine-worker.ts runs as a worker thread');

port.on('message', (inputs: readonly CommandInput[]) => {
  port.postMessage(inputs.map((input) => engine.apply(sequencer.next(input))));
});
