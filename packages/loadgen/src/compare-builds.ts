import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { closedLoop, startDriven } from './driven-target';
import type { GeneratorPool } from './generator-pool';
import type { EntryKind, PhaseCommand } from './generator-thread';
import { runPhase } from './phase';
import type { OursTarget } from './targets';

export interface CompareOptions {
  readonly entry: EntryKind;
  /** The other checkout (built), whose auth + matching run beside this one's. */
  readonly against: string;
  readonly sliceSeconds: number;
  /** Slices measured per build. */
  readonly slices: number;
  readonly warmupSeconds: number;
  readonly concurrency: number;
  readonly workDir: string;
  readonly progress?: NodeJS.WritableStream;
}

interface Build {
  readonly name: string;
  readonly target: OursTarget;
  readonly pool: GeneratorPool;
  /** CPU µs per answered order of each measured slice. */
  readonly perOrder: number[];
  cpuSeconds: number;
  answered: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Two builds measured under the same machine load: both run at once (each its own auth,
 * matching and funded traders), and closed-loop slices of the same flow go to one and then the
 * other, in turns that alternate which goes first. Reports each matching's CPU per answered order
 * (all its threads) per slice, their median and the total.
 */
export async function compareBuilds(options: CompareOptions): Promise<string> {
  const builds: Build[] = [];
  try {
    for (const [name, root] of [['this', undefined], ['against', options.against]] as const) {
      const workDir = join(options.workDir, name);
      mkdirSync(workDir);
      const { target, pool } = await startDriven(workDir, options.concurrency, root);
      builds.push({ name, target, pool, perOrder: [], cpuSeconds: 0, answered: 0 });
    }
    const closed = (seconds: number): PhaseCommand => closedLoop(options.entry, options.concurrency, seconds);
    for (const build of builds) await runPhase(build.pool, { label: `${build.name} ${options.entry} warm-up`, ...progressOf(options) }, closed(options.warmupSeconds));
    for (let slice = 0; slice < options.slices; slice++) {
      for (const build of slice % 2 === 0 ? builds : [...builds].reverse()) {
        const pid = build.target.loaded.pid;
        const phase = await runPhase(build.pool, { label: `${build.name} ${options.entry} slice ${slice + 1}`, serverPid: pid, ...progressOf(options) }, closed(options.sliceSeconds));
        const cpuSeconds = phase.serverCpuSeconds ?? 0;
        build.perOrder.push((cpuSeconds * 1e6) / Math.max(1, phase.answered));
        build.cpuSeconds += cpuSeconds;
        build.answered += phase.answered;
      }
    }
  } finally {
    await Promise.all(builds.map((build) => build.pool.close()));
    await Promise.all(builds.flatMap((build) => build.target.servers.map((server) => server.stop())));
  }
  const lines = [`${options.entry}, ${options.slices} alternating ${options.sliceSeconds}-s slices each at c=${options.concurrency}: matching CPU per answered order (all threads)`];
  for (const build of builds) {
    const slices = build.perOrder.map((us) => us.toFixed(1)).join(', ');
    lines.push(`  ${build.name.padEnd(7)} median ${median(build.perOrder).toFixed(1)} µs, total ${((build.cpuSeconds * 1e6) / Math.max(1, build.answered)).toFixed(1)} µs over ${build.answered} orders; slices: ${slices}`);
  }
  const [first, second] = builds;
  if (first !== undefined && second !== undefined) {
    // Slice k of each build ran back to back: their difference is what the machine's drift disturbs least.
    const differences = first.perOrder.map((us, k) => us - (second.perOrder[k] ?? us));
    lines.push(`  this − against, slice by slice: median ${median(differences).toFixed(1)} µs (${differences.filter((d) => d < 0).length} of ${differences.length} slices lower)`);
  }
  return `${lines.join('\n')}\n`;
}

function progressOf(options: CompareOptions): { progress?: NodeJS.WritableStream } {
  return options.progress === undefined ? {} : { progress: options.progress };
}
