import { performance } from 'node:perf_hooks';
import { drain, sendOne, type Recorder, type Workers } from './driving';

export interface OpenLoop {
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  /** Requests awaiting an answer beyond which sends are held back (a memory bound if the server stalls). */
  readonly maxInFlight: number;
  readonly drainMs: number;
}

/** The pacing timer's period: sends due since the last tick go out together. */
const TICK_MS = 1;

/**
 * Open loop: requests are scheduled at a fixed rate whatever the answers do, and each latency is
 * measured from its scheduled time, so a stall shows in the percentiles instead of silently
 * slowing the schedule down (coordinated omission). Request i goes to worker i % workers. A
 * request held back by maxInFlight is sent late, its latency still counted from its scheduled
 * time; requests still unsent drainMs after the schedule's end are abandoned and returned as unsent.
 */
export async function driveOpenLoop(workers: Workers, recorder: Recorder, loop: OpenLoop): Promise<{ unsent: number }> {
  const startedAt = performance.now();
  const intervalMs = 1000 / loop.ratePerSecond;
  const total = Math.min(loop.maxRequests, Math.floor((loop.durationMs / 1000) * loop.ratePerSecond));
  const giveUpAt = startedAt + loop.durationMs + loop.drainMs;
  const calls: Promise<void>[] = [];
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - startedAt) / intervalMs) + 1);
      while (sent < due && recorder.inFlight < loop.maxInFlight) {
        calls.push(sendOne(workers, sent % workers.flows.length, recorder, startedAt + sent * intervalMs));
        sent += 1;
      }
      if (sent >= total || now > giveUpAt) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await drain(workers, calls, loop.drainMs);
  return { unsent: total - sent };
}
