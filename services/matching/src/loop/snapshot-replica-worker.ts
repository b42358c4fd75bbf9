/**
 * The thread of a SnapshotReplica (snapshot-replica.ts): restores the seed, applies the command
 * batches it is sent, in order, and answers each take by writing the snapshot at that seq
 * (writeSnapshot: temp file, fsync, rename). A write that fails is reported for that take; anything
 * else unexpected throws, which ends the thread: the replica then reports the failure.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { Engine } from '@orderbook/engine';
import { decodeBatch } from '../storage/command-codec';
import { writeSnapshot } from '../storage/snapshot-store';
import type { ReplicaReply, ReplicaRequest } from './snapshot-replica-protocol';

/**
 * The replica's niceness (Linux): its work — every command once more, about a second of CPU per
 * snapshot of 1M resting orders — must not take a core from the command loop when the cores are
 * short, and a waiting loop is every client waiting. It only has to keep up on average.
 */
const REPLICA_NICE = 10;

/**
 * Lowers this thread's priority, not the process's: on Linux setpriority applies to the one thread
 * its id names (elsewhere it would renice the whole process, so nothing is done there).
 */
function yieldCoresToTheLoop(): void {
  let threadId: number;
  try {
    threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch {
    return;
  }
  if (getPriority(threadId) < REPLICA_NICE) setPriority(threadId, REPLICA_NICE);
}

yieldCoresToTheLoop();
const port = parentPort!;
// The seed comes as a message, not as workerData, which would keep its bytes for the thread's life.
let engine: Engine | undefined;

port.on('message', (request: ReplicaRequest) => {
  if (request.kind === 'seed') {
    if (engine !== undefined) throw new Error('the snapshot replica got a second seed');
    engine = request.state === undefined ? new Engine(request.config) : Engine.restore(request.config, request.state);
    port.postMessage({ kind: 'ready' } satisfies ReplicaReply);
    return;
  }
  if (engine === undefined) throw new Error(`the snapshot replica got ${request.kind} before its seed`);
  if (request.kind === 'commands') {
    const { bytes } = request;
    let start = 0;
    for (const end of request.ends) {
      for (const command of decodeBatch(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start))) {
        if (command.seq !== engine.lastSeq() + 1) throw new Error(`the snapshot replica got seq ${command.seq} after seq ${engine.lastSeq()}`);
        engine.apply(command);
      }
      start = end;
    }
    return;
  }
  if (engine.lastSeq() !== request.seq) throw new Error(`a snapshot at seq ${request.seq} was asked of the replica at seq ${engine.lastSeq()}`);
  const started = performance.now();
  const engineState = engine.snapshot();
  const encodeMs = performance.now() - started;
  // Commands that arrive meanwhile are applied: the bytes are already taken.
  writeSnapshot(request.dir, { seq: request.seq, timestamp: request.timestamp, engineState }).then(
    () => port.postMessage({ kind: 'written', seq: request.seq, encodeMs, writeMs: performance.now() - started - encodeMs } satisfies ReplicaReply),
    (error: Error) => port.postMessage({ kind: 'notWritten', seq: request.seq, error } satisfies ReplicaReply),
  );
});
