#!/usr/bin/env node
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compareBuilds } from './compare-builds';
import { breakdownOf, MATCHING_GROUPS, readCpuProfile, renderBreakdown, topFunctions } from './cpu-profile-breakdown';
import { closedLoop, startDriven } from './driven-target';
import type { EntryKind, PhaseCommand } from './generator-thread';
import { runPhase } from './phase';
import { readThreadCpu, threadCpuBetween } from './proc-stats';

const USAGE = `usage: make bench-profile [ARGS="options"]

Starts auth + matching as make bench does (matching under node --cpu-prof), warms up, then drives
one closed-loop phase of unary orders or OrderSession streams and prints the matching process's CPU
per answered order (all threads, and each thread) and where its main thread's time went: the self
time of the profile's samples within the phase, grouped by source file (cpu-profile-breakdown.ts).

  --entry unary|session   what to drive (default session)
  --seconds S             measured phase (default 15)
  --warmup S              warm-up before it, not measured (default 5)
  --concurrency N         requests in flight (default 256)
  --no-profile            no CPU profile: only the CPU per order (for comparing builds)
  --top N                 also list the N functions with the most self time (default 0)
  --against DIR           compare builds instead: DIR is another checkout (built); both run at
                          once, alternating --slice S second slices (default 5), --slices N each
                          (default 6); prints each one's CPU per order per slice, median, total
  --keep DIR              keep the profile here (default: a temporary directory, removed)
`;

function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      entry: { type: 'string', default: 'session' },
      seconds: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '256' },
      'no-profile': { type: 'boolean', default: false },
      top: { type: 'string', default: '0' },
      keep: { type: 'string' },
      against: { type: 'string' },
      slice: { type: 'string', default: '5' },
      slices: { type: 'string', default: '6' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  // Ctrl-C must still stop the child servers: exiting normally runs the process-exit hook that kills them.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  const entry = values.entry as EntryKind;
  if (entry !== 'unary' && entry !== 'session') throw new Error(`--entry: expected unary or session, got "${values.entry}"`);
  const [seconds, warmup, concurrency] = [values.seconds, values.warmup, values.concurrency].map(Number) as [number, number, number];
  if (values.against !== undefined) {
    const workDir = mkdtempSync(join(tmpdir(), 'orderbook-compare-'));
    try {
      const options = { entry, against: values.against, sliceSeconds: Number(values.slice), slices: Number(values.slices), warmupSeconds: warmup, concurrency, workDir };
      process.stdout.write(await compareBuilds({ ...options, progress: process.stderr }));
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
    return;
  }
  const profileDir = values.keep ?? mkdtempSync(join(tmpdir(), 'orderbook-profile-'));
  if (!values['no-profile']) process.env.BENCH_CPU_PROF_DIR = profileDir;
  const workDir = mkdtempSync(join(tmpdir(), 'orderbook-profile-run-'));
  const { target: ours, pool } = await startDriven(workDir, concurrency);
  const pid = ours.loaded.pid;
  let report: string;
  try {
    const closed = (durationSeconds: number): PhaseCommand => closedLoop(entry, concurrency, durationSeconds);
    await runPhase(pool, { label: `${entry} warm-up`, progress: process.stderr }, closed(warmup));
    const threadsBefore = readThreadCpu(pid);
    const from = monotonicMicros();
    const phase = await runPhase(pool, { label: `${entry} c=${concurrency}`, serverPid: pid, progress: process.stderr }, closed(seconds));
    const to = monotonicMicros();
    const threads = threadCpuBetween(pid, threadsBefore, readThreadCpu(pid));
    report = renderCpu(entry, phase.answered, phase.throughput, phase.serverCpuSeconds ?? 0, threads);
    // The profile is written when matching exits.
    await ours.servers.find((server) => server.name === 'matching')?.stop();
    if (!values['no-profile']) report += profileReport(join(profileDir, 'matching'), from, to, phase.answered, threads.get('main') ?? 0, Number(values.top));
  } finally {
    await pool.close();
    await Promise.all(ours.servers.map((server) => server.stop()));
    rmSync(workDir, { recursive: true, force: true });
    if (values.keep === undefined) rmSync(profileDir, { recursive: true, force: true });
  }
  process.stdout.write(report);
}

function renderCpu(entry: string, answered: number, throughput: number, cpuSeconds: number, threads: ReadonlyMap<string, number>): string {
  const perOrder = (s: number): string => `${((s * 1e6) / Math.max(1, answered)).toFixed(1)} µs`;
  const lines = [`${entry}: ${answered} orders answered, ${Math.round(throughput)}/s; matching CPU per order ${perOrder(cpuSeconds)} (all threads)`];
  for (const [name, s] of [...threads].sort((a, b) => b[1] - a[1])) if (s > 0) lines.push(`  thread ${name}: ${perOrder(s)}`);
  lines.push('  (threads named node besides main: the snapshot replica\'s worker, V8\'s GC helpers, libuv\'s pool; v8:ProfEvntProc is the profiler\'s own)');
  return `${lines.join('\n')}\n`;
}

/** The main thread's profile (node names it CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile; worker threads write their own). */
function profileReport(dir: string, from: number, to: number, answered: number, mainCpuSeconds: number, top: number): string {
  const file = readdirSync(dir).find((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name));
  if (file === undefined) throw new Error(`no main-thread .cpuprofile in ${dir}`);
  const profile = readCpuProfile(join(dir, file));
  const breakdown = breakdownOf(profile, MATCHING_GROUPS, from, to);
  const sampledPerOrder = breakdown.busyMicros / Math.max(1, answered);
  const mainPerOrder = (mainCpuSeconds * 1e6) / Math.max(1, answered);
  const lines = [
    '',
    `main thread (${file}, ${((to - from) / 1e6).toFixed(1)} s of its ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s): ${sampledPerOrder.toFixed(1)} µs of busy samples per order (wall time), ${mainPerOrder.toFixed(1)} µs of CPU; shares of the samples scaled to the CPU:`,
    renderBreakdown(breakdown, mainPerOrder),
    ...(top > 0 ? [`functions with the most self time (share of the busy samples):`, ...topFunctions(profile, top, from, to), ''] : []),
  ];
  return lines.join('\n');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench-profile: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
