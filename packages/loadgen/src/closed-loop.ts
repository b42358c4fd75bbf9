import { performance } from 'node:perf_hooks';
import { drain, sendOne, type Recorder, type Workers } from './driving';

export interface ClosedLoop {
  /** Workers 0 .. concurrency-1 each keep one request in flight. */
  readonly concurrency: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  readonly drainMs: number;
}

/**
 * Closed loop: each worker sends a request, waits for its answer, and sends the next, until the
 * duration or the request bound is reached. This finds the maximum throughput; its latencies are
 * those of a saturated server.
 */
export async function driveClosedLoop(workers: Workers, recorder: Recorder, loop: ClosedLoop): Promise<void> {
  if (loop.concurrency > workers.flows.length) throw new Error(`closed loop: ${loop.concurrency} workers wanted, ${workers.flows.length} exist`);
  const deadline = performance.now() + loop.durationMs;
  let sent = 0;
  const worker = async (index: number): Promise<void> => {
    while (performance.now() < deadline && sent < loop.maxRequests) {
      sent += 1;
      await sendOne(workers, index, recorder, performance.now());
    }
  };
  await drain(
    workers,
    Array.from({ length: loop.concurrency }, (_, index) => worker(index)),
    loop.durationMs + loop.drainMs,
  );
}
