import { performance } from 'node:perf_hooks';
import type { OrderEntry, Outcome, Slot } from './clients';
import type { OperationKind, OrderFlow } from './workload';

/** Where a driver reports each answer, and how many requests await one. */
export interface Recorder {
  inFlight: number;
  record(kind: OperationKind, outcome: Outcome, micros: number): void;
}

/** Worker i sends flows[i]'s orders as slots[i] (its user and connection) through the entry. */
export interface Workers {
  readonly entry: OrderEntry;
  readonly flows: readonly OrderFlow[];
  readonly slots: readonly Slot[];
}

/** Sends worker i's next operation and records its answer against `startedAt` (a performance.now() time). */
export async function sendOne(workers: Workers, index: number, recorder: Recorder, startedAt: number): Promise<void> {
  const flow = workers.flows[index];
  const slot = workers.slots[index];
  if (flow === undefined || slot === undefined) throw new Error(`loadgen: no worker ${index}`);
  const operation = flow.next();
  recorder.inFlight += 1;
  const outcome = await workers.entry.send(slot, operation);
  recorder.inFlight -= 1;
  recorder.record(operation.kind, outcome, (performance.now() - startedAt) * 1000);
  if (outcome.restingOrderId !== undefined) flow.rested(outcome.restingOrderId);
}

/**
 * Waits for the given calls, but no longer than drainMs: an answer that never comes (a stalled
 * stream has no deadline) closes the entry and fails the phase instead of hanging it.
 */
export async function drain(workers: Workers, calls: readonly Promise<void>[], drainMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), drainMs);
  });
  const result = await Promise.race([Promise.all(calls), timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    workers.entry.close();
    throw new Error(`calls still unanswered ${drainMs} ms after the end of the phase`);
  }
}
