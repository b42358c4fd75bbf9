/**
 * The thread of a SnapshotReplica (snapshot-replica.ts): restores the seed, applies the command
 * batches it is sent, in order, and answers each take with the snapshot at that seq. Anything
 * unexpected throws, which ends the thread: the replica then reports the failure.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Engine } from '@orderbook/engine';
import { decodeBatch } from '../storage/command-codec';
import type { ReplicaReply, ReplicaRequest, ReplicaSeed } from './snapshot-replica-protocol';

const seed = workerData as ReplicaSeed;
const engine = Engine.restore(seed.config, seed.state);
const port = parentPort!;
port.postMessage({ kind: 'ready' } satisfies ReplicaReply);

port.on('message', (request: ReplicaRequest) => {
  if (request.kind === 'commands') {
    for (const command of decodeBatch(Buffer.from(request.batch.buffer, request.batch.byteOffset, request.batch.byteLength))) {
      if (command.seq !== engine.lastSeq() + 1) throw new Error(`the snapshot replica got seq ${command.seq} after seq ${engine.lastSeq()}`);
      engine.apply(command);
    }
    return;
  }
  if (engine.lastSeq() !== request.seq) throw new Error(`a snapshot at seq ${request.seq} was asked of the replica at seq ${engine.lastSeq()}`);
  const state = engine.snapshot();
  const reply: ReplicaReply = { kind: 'taken', seq: request.seq, state };
  port.postMessage(reply, [state.buffer as ArrayBuffer]);
});
