import { rename, writeFile } from 'node:fs/promises';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/**
 * Loaded into a bench server process (node --import) when BENCH_GC_FILE is set: keeps the total of
 * its garbage-collection pauses in that file ({"pauseMs": ..., "count": ..., "heapAfterMajorGcBytes": ...},
 * rewritten four times a second), so that the load generator can chart the GC pauses of ours and of
 * the bare server alike, and tell a heap that keeps growing (a leak) from an RSS that merely has not
 * been given back: the heap in use plus the memory of Buffers and other off-heap objects (`external`)
 * right after the last full (mark-sweep-compact) collection.
 *
 * Written off the event loop (the thread pool) into a temporary file renamed over the report, so
 * that the reader never sees half a file: a synchronous write blocked the measured server's loop
 * for milliseconds whenever the disk was busy (seen in a CPU profile of matching under make bench).
 */
const file = process.env.BENCH_GC_FILE;
if (file !== undefined && file !== '') {
  const totals = { pauseMs: 0, count: 0, heapAfterMajorGcBytes: undefined as number | undefined };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      totals.pauseMs += entry.duration;
      totals.count += 1;
      if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        const { heapUsed, external } = process.memoryUsage();
        totals.heapAfterMajorGcBytes = heapUsed + external;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  const partial = `${file}.partial`;
  let writing = false;
  setInterval(() => {
    if (writing) return;
    writing = true;
    writeFile(partial, JSON.stringify(totals))
      .then(() => rename(partial, file))
      // A failed write keeps the last report; it must not take the measured server down.
      .catch(() => undefined)
      .finally(() => (writing = false));
  }, 250).unref();
}
