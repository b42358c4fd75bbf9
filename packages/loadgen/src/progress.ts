import { formatCount, formatMs } from './format';
import type { Tally } from './tally';

/** Requests currently awaiting an answer, shared by the sink and the progress line. */
export interface InFlight {
  count: number;
}

const PERIOD_MS = 1000;

/** Prints one progress line per second while a phase runs; returns the function that stops it. */
export function startProgress(label: string, tally: Tally, inFlight: InFlight, out: NodeJS.WritableStream | undefined): () => void {
  if (out === undefined) return () => undefined;
  const startedAt = Date.now();
  let lastAnswered = 0;
  let lastAt = startedAt;
  const timer = setInterval(() => {
    const now = Date.now();
    const answered = tally.answered;
    const rate = ((answered - lastAnswered) * 1000) / Math.max(1, now - lastAt);
    out.write(
      `[${label}] ${Math.round((now - startedAt) / 1000)}s  answered ${formatCount(answered)}  ${formatCount(rate)}/s` +
        `  p99(1s) ${formatMs(tally.window.quantile(0.99))}  in flight ${inFlight.count}` +
        `  rejected ${formatCount(tally.rejected)}  errors ${formatCount(tally.errors)}\n`,
    );
    tally.window.reset();
    lastAnswered = answered;
    lastAt = now;
  }, PERIOD_MS);
  return () => clearInterval(timer);
}
