import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessStats {
  /** Resident set size now (VmRSS), in KiB. */
  readonly rssKiB: number;
  /** Peak resident set size since start (VmHWM), in KiB. */
  readonly peakRssKiB: number;
  /** User + system CPU time of all threads so far, in seconds. */
  readonly cpuSeconds: number;
}

/** Linux reports CPU times in USER_HZ ticks, which the kernel ABI fixes at 100 per second. */
const TICKS_PER_SECOND = 100;

function statusKiB(text: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  if (match === null) throw new Error(`/proc status has no ${field} line`);
  return Number(match[1]);
}

/** User + system CPU seconds of a /proc stat line (a process's or a thread's). */
function cpuSecondsOfStat(stat: string): number {
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Memory and CPU of a process from /proc (Linux only). */
export function readProcessStats(pid: number): ProcessStats {
  const statusText = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    rssKiB: statusKiB(statusText, 'VmRSS'),
    peakRssKiB: statusKiB(statusText, 'VmHWM'),
    cpuSeconds: cpuSecondsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8')),
  };
}

/** CPU seconds of each thread of a process so far, by tid, with the thread's name (/proc/<pid>/task). */
export function readThreadCpu(pid: number): Map<number, { readonly name: string; readonly seconds: number }> {
  const threads = new Map<number, { name: string; seconds: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      threads.set(Number(tid), { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), seconds: cpuSecondsOfStat(stat) });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

/** CPU seconds each thread used between two readings, by `main` (the thread whose tid is the pid) or `<name> <tid>`. */
export function threadCpuBetween(pid: number, before: ReturnType<typeof readThreadCpu>, after: ReturnType<typeof readThreadCpu>): Map<string, number> {
  const byThread = new Map<string, number>();
  for (const [tid, { name, seconds }] of after) byThread.set(tid === pid ? 'main' : `${name} ${tid}`, seconds - (before.get(tid)?.seconds ?? 0));
  return byThread;
}

/** CPU time all cores spent busy since boot, in seconds (from /proc/stat): with a process's own, it shows what else ran meanwhile. */
export function readMachineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}
