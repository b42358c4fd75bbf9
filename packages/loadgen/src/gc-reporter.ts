import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';

/**
 * Loaded into a bench server process (node --import) when BENCH_GC_FILE is set: keeps the total of
 * its garbage-collection pauses in that file ({"pauseMs": ..., "count": ...}, rewritten four times a
 * second), so that the load generator can chart the GC pauses of ours and of the bare server alike.
 */
const file = process.env.BENCH_GC_FILE;
if (file !== undefined && file !== '') {
  const totals = { pauseMs: 0, count: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      totals.pauseMs += entry.duration;
      totals.count += 1;
    }
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => writeFileSync(file, JSON.stringify(totals)), 250).unref();
}
