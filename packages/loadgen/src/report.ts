import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions, BenchResult, TargetResult } from './bench';
import type { MachineFacts } from './machine';
import { formatCount, formatMs } from './format';
import { memoryTrend, type MemoryFigure } from './memory-trend';
import type { PhaseResult } from './phase';
import type { SequentialCallName, SequentialResult } from './sequential';

/** The issue's targets: ours at ≥ 0.6 of the bare ceiling, and p99 under 10 ms at half our maximum load. */
export const RATIO_TARGET = 0.6;
export const HALF_LOAD_P99_TARGET_US = 10_000;
/** A phase during which everything else on the machine used more than this (% of one core) is marked: its figures are not the services' alone. */
export const DISTURBED_OTHER_CPU_PERCENT = 25;
/** Issue 13: a sequential order at most this much slower than a sequential read (GetBalances), means of the same run. */
export const SEQUENTIAL_WRITE_EXTRA_TARGET_US = 500;
/** Issue 13: server CPU per order beyond the bare server's, unary and OrderSession. */
export const CPU_BEYOND_BARE_TARGET_US = 15;

function mib(kib: number): string {
  return `${(kib / 1024).toFixed(0)} MiB`;
}

/** Memory over the open-loop phase: with a long --open, the soak that shows a leak as a steady slope of the heap after GC. */
function halfLoadMemory(target: TargetResult, figure: MemoryFigure): string {
  const trend = memoryTrend(target.halfLoad.timeline, figure);
  if (trend === undefined) return `${target.name}: too short to tell`;
  const slope = trend.slopeKiBPerMinute / 1024;
  return `${target.name} ${mib(trend.startKiB)} → ${mib(trend.endKiB)} (trend ${slope >= 0 ? '+' : ''}${slope.toFixed(2)} MiB/min over ${trend.seconds.toFixed(0)} s)`;
}

function disturbed(phase: PhaseResult): boolean {
  return phase.otherCpuPercent > DISTURBED_OTHER_CPU_PERCENT;
}

/** Orders per second, with "!" when other work on the machine took a share of the CPU meanwhile. */
function rate(phase: PhaseResult): string {
  return formatCount(phase.throughput) + (disturbed(phase) ? ' !' : '');
}

function cpu(phase: PhaseResult): string {
  return `${Math.round(phase.serverCpuPercent ?? 0)} / ${Math.round(phase.generatorCpuPercent)} / ${Math.round(phase.otherCpuPercent)} %`;
}

/** CPU time of the server process per answered call, µs: robust where wall-clock rates are not (a shared machine). */
function cpuPerOrderUs(phase: PhaseResult): number | undefined {
  if (phase.serverCpuSeconds === undefined || phase.answered === 0) return undefined;
  return (phase.serverCpuSeconds * 1e6) / phase.answered;
}

function cpuPerOrder(phase: PhaseResult): string {
  const micros = cpuPerOrderUs(phase);
  return micros === undefined ? '-' : `${Math.round(micros)} µs`;
}

function gcPauses(phase: PhaseResult): string {
  if (phase.serverGcPauseMs === undefined) return '-';
  return `${phase.serverGcPauseMs.toFixed(0)} ms (${((phase.serverGcPauseMs / 10 / phase.seconds)).toFixed(1)} %)`;
}

/** Ours minus bare in server CPU per order, on the unary and OrderSession paths, against the target. */
function cpuBeyondBare(result: BenchResult): string {
  const pairs: Array<[string, PhaseResult, PhaseResult]> = [
    ['unary', result.ours.best, result.bare.best],
    ['OrderSession', result.ours.session, result.bare.session],
  ];
  return pairs
    .map(([name, ours, bare]) => {
      const o = cpuPerOrderUs(ours);
      const b = cpuPerOrderUs(bare);
      if (o === undefined || b === undefined) return `${name}: -`;
      const beyond = o - b;
      return `${name} ours ${Math.round(o)} µs vs bare ${Math.round(b)} µs: the service adds ${Math.round(beyond)} µs (target ≤ ${CPU_BEYOND_BARE_TARGET_US}: ${beyond <= CPU_BEYOND_BARE_TARGET_US ? 'MET' : 'NOT MET'})`;
    })
    .join('; ');
}

/** The unary order RPCs' time inside matching during each unary phase of ours, per RPC. */
function serverLatencyByMethod(result: BenchResult): string {
  const phases = [...result.ours.sweep, result.ours.halfLoad];
  const methods = [...new Set(phases.flatMap((p) => Object.keys(p.serverLatencyByMethod ?? {})))].sort();
  if (methods.length === 0) return '(no server-side figures: matching exported no call histogram)';
  const cell = (phase: PhaseResult, method: string): string => {
    const latency = phase.serverLatencyByMethod?.[method];
    return latency === undefined ? '-' : `${formatMs(latency.meanUs)} / ${formatBound(latency.p99Us)}`;
  };
  return table([
    ['inside matching, mean / p99', ...phases.map((p) => p.label.replace(/^ours /, ''))],
    ...methods.map((method) => [method, ...phases.map((p) => cell(p, method))]),
  ]);
}

function sequentialTable(result: BenchResult): string {
  const ours = result.ours.sequential;
  const bare = result.bare.sequential;
  const rows: string[][] = [['call', 'bare mean', 'p50', 'p90', 'p99', 'ours mean', 'p50', 'p90', 'p99', 'ours - bare', 'inside matching mean / p99', 'errors']];
  for (const call of ours.calls) {
    const twin = bare.calls.find((c) => c.name === call.name);
    const figures = (latency: SequentialResult['calls'][number]['latency'] | undefined): string[] =>
      latency === undefined ? ['-', '-', '-', '-'] : [formatMs(latency.meanUs), formatMs(latency.p50Us), formatMs(latency.p90Us), formatMs(latency.p99Us)];
    rows.push([
      call.name,
      ...figures(twin?.latency),
      ...figures(call.latency),
      twin === undefined ? '-' : formatMs(call.latency.meanUs - twin.latency.meanUs),
      call.serverLatency === undefined ? '-' : `${formatMs(call.serverLatency.meanUs)} / ${formatBound(call.serverLatency.p99Us)}`,
      `${call.errors} / ${twin?.errors ?? '-'}`,
    ]);
  }
  return table(rows);
}

function meanOf(result: SequentialResult, name: SequentialCallName): number | undefined {
  return result.calls.find((c) => c.name === name)?.latency.meanUs;
}

function sequentialSummary(result: BenchResult): string {
  const perCall = (target: SequentialResult): string => {
    const calls = target.calls.reduce((sum, c) => sum + c.latency.count, 0);
    return calls === 0 ? '-' : `${Math.round((target.serverCpuSeconds * 1e6) / calls)} µs`;
  };
  const read = meanOf(result.ours.sequential, 'GetBalances');
  const write = meanOf(result.ours.sequential, 'PlaceLimitOrder');
  const extra = read === undefined || write === undefined ? undefined : write - read;
  const syncs = result.ours.sequential.journalSyncs;
  const disk = syncs === undefined || extra === undefined ? '' : `; of it the journal's fdatasync ${formatMs(syncs.meanUs)} (mean of ${formatCount(syncs.count)}), the rest ${formatMs(extra - syncs.meanUs)}`;
  return [
    `server CPU per call: ours ${perCall(result.ours.sequential)}, bare ${perCall(result.bare.sequential)}; server GC pauses: ours ${result.ours.sequential.serverGcPauseMs.toFixed(0)} ms, bare ${result.bare.sequential.serverGcPauseMs.toFixed(0)} ms`,
    extra === undefined
      ? 'PlaceLimitOrder - GetBalances: -'
      : `ours PlaceLimitOrder - GetBalances (means): ${formatMs(extra)}   target ≤ ${formatMs(SEQUENTIAL_WRITE_EXTRA_TARGET_US)}: ${extra <= SEQUENTIAL_WRITE_EXTRA_TARGET_US ? 'MET' : 'NOT MET'}${disk}`,
  ].join('\n');
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('   ')).join('\n');
}

function sweepTable(result: BenchResult): string {
  const rows: string[][] = [['concurrency', 'bare orders/s', 'ours orders/s', 'ratio', 'ours p99', 'ours CPU server/gen/other']];
  result.ours.sweep.forEach((ours, index) => {
    const bare = result.bare.sweep[index];
    rows.push([
      String(ours.concurrency ?? ''),
      bare === undefined ? '-' : rate(bare),
      rate(ours),
      bare === undefined ? '-' : (ours.throughput / bare.throughput).toFixed(2),
      formatMs(ours.latency.p99Us),
      cpu(ours),
    ]);
  });
  return table(rows);
}

/** A histogram bucket's upper bound, e.g. "≤ 0.50 ms". */
function formatBound(micros: number): string {
  return Number.isFinite(micros) ? `≤ ${formatMs(micros)}` : 'past the last bucket';
}

function rss(target: TargetResult): string {
  return Object.entries(target.processes)
    .map(([name, stats]) => `${name} ${mib(stats.rssKiB)} (peak ${mib(stats.peakRssKiB)})`)
    .join(', ');
}

function sideBySide(result: BenchResult): string {
  const columns: [string, PhaseResult][] = [
    ['bare unary', result.bare.best],
    ['ours unary', result.ours.best],
    ['bare session', result.bare.session],
    ['ours session', result.ours.session],
    ['bare @half', result.bare.halfLoad],
    ['ours @half', result.ours.halfLoad],
  ];
  const row = (title: string, cell: (phase: PhaseResult) => string): string[] => [title, ...columns.map(([, phase]) => cell(phase))];
  return table([
    ['', ...columns.map(([name]) => name)],
    row('mode', (p) => (p.mode === 'closed-loop' ? `closed c=${p.concurrency}` : `open ${formatCount(p.targetRate ?? 0)}/s`)),
    row('orders/s answered', rate),
    row('p50', (p) => formatMs(p.latency.p50Us)),
    row('p90', (p) => formatMs(p.latency.p90Us)),
    row('p99', (p) => formatMs(p.latency.p99Us)),
    row('p99.9', (p) => formatMs(p.latency.p999Us)),
    row('max', (p) => formatMs(p.latency.maxUs)),
    row('inside the server p50 / p99', (p) => (p.serverLatency === undefined ? '-' : `${formatBound(p.serverLatency.p50Us)} / ${formatBound(p.serverLatency.p99Us)}`)),
    row('errors', (p) => formatCount(p.errors) + (p.unsent ? ` (+${formatCount(p.unsent)} unsent)` : '')),
    row('expected rejections', (p) => formatCount(p.rejected)),
    row('CPU server/gen/other', cpu),
    row('server CPU per order', cpuPerOrder),
    row('server GC pauses (% of the phase)', gcPauses),
  ]);
}

/** A target checked on disturbed phases (for a maximum: any sweep step, since a disturbed step may have hidden it) is reported, but not as a conclusion. */
function verdict(met: boolean, phases: readonly PhaseResult[]): string {
  return (met ? 'MET' : 'NOT MET') + (phases.some(disturbed) ? ' (phases disturbed: not conclusive)' : '');
}

function disturbance(result: BenchResult): string {
  const phases = [...[result.ours, result.bare].flatMap((target) => [...target.sweep, target.halfLoad, target.session]), ...result.tls.sweep];
  const count = phases.filter(disturbed).length;
  return count === 0
    ? 'no phase was disturbed by other work on the machine'
    : `! ${count} of ${phases.length} phases ran while other work used more than ${DISTURBED_OTHER_CPU_PERCENT}% of a core: their figures understate the services; run again on a quiet machine`;
}

function errorDetails(result: BenchResult): string {
  const lines: string[] = [];
  for (const phases of [result.ours, result.bare].map((t) => [t.warmup, ...t.sweep, t.halfLoad, t.session]).concat([[result.tls.warmup, ...result.tls.sweep]])) {
    for (const phase of phases) {
      for (const sample of phase.errorSamples) lines.push(`  [${phase.label}] ${sample}`);
    }
  }
  return lines.length === 0 ? 'every response had the expected status' : `error samples:\n${lines.join('\n')}`;
}

/** The final human-readable report: machine, workload, sweep, side-by-side table, targets. */
export function renderReport(result: BenchResult, options: BenchOptions, machine: MachineFacts, command: string): string {
  const mix = Object.entries(options.mix).map(([kind, weight]) => `${kind} ${weight}`).join(', ');
  const halfP99 = result.ours.halfLoad.latency.p99Us;
  return [
    '',
    `Orderbook load test — ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, commit ${machine.commit}; CPU busy before the run: ${machine.busyBeforePercent}% of one core`,
    `command: ${command}`,
    `workload: seed ${options.seed}; mix ${mix}; markets ${options.markets.join(',')}; ${options.users} traders; ${options.threads} generator thread(s) × ${options.channels} channel(s); journaling on`,
    '',
    `One call at a time (${result.ours.sequential.rounds} rounds of every call; one client in this process, one connection, each call sent once the previous one was answered;`,
    'client-side mean and percentiles; "inside matching": arrival to status in matching_call_duration_seconds, exact mean and the bucket bound holding p99; errors ours / bare):',
    sequentialTable(result),
    sequentialSummary(result),
    '',
    `Sweep (closed loop, ${options.stepSeconds} s per step, unary RPCs; "orders/s" counts correct answers; CPU in % of one core; "other" is everything else on the machine):`,
    sweepTable(result),
    '',
    'Side by side (unary: best sweep step; session: OrderSession streams; @half: open loop at half of ours max, latency from the scheduled send time;',
    '"inside the server": arrival to status of the unary order RPCs in matching_call_duration_seconds, as the bucket bound holding the quantile):',
    sideBySide(result),
    `server CPU per order beyond the bare server's: ${cpuBeyondBare(result)}`,
    '',
    'Time inside matching per order RPC (arrival to status; exact mean and the bucket bound holding p99):',
    serverLatencyByMethod(result),
    '',
    `server RSS at the end — ours: ${rss(result.ours)}; bare: ${rss(result.bare)}`,
    `server memory through the open loop at half load, first minute → last minute (--open 600 makes it the 10-minute soak):`,
    `  RSS — ${halfLoadMemory(result.ours, 'rssKiB')}; ${halfLoadMemory(result.bare, 'rssKiB')}`,
    `  heap + Buffers after the last full GC — ${halfLoadMemory(result.ours, 'heapAfterGcKiB')}; ${halfLoadMemory(result.bare, 'heapAfterGcKiB')}`,
    `ratio ours/bare (unary):   ${result.unaryRatio.toFixed(2)}   target ≥ ${RATIO_TARGET}: ${verdict(result.unaryRatio >= RATIO_TARGET, [...result.ours.sweep, ...result.bare.sweep])}`,
    `ratio ours/bare (session): ${result.sessionRatio.toFixed(2)}`,
    `unary over TLS (matching restarted with a certificate, same data and flows): ${result.tls.sweep.map((p) => `c=${p.concurrency} ${rate(p)}`).join(', ')}; best ${rate(result.tls.best)} orders/s vs ${rate(result.ours.best)} in plaintext: ratio TLS/plaintext ${result.tls.ratio.toFixed(2)}`,
    `p99 at half load (${formatCount(result.halfLoadRate)}/s): ${formatMs(halfP99)}   target < ${formatMs(HALF_LOAD_P99_TARGET_US)}: ${verdict(halfP99 < HALF_LOAD_P99_TARGET_US && result.ours.halfLoad.errors === 0, [result.ours.halfLoad])}`,
    disturbance(result),
    errorDetails(result),
    '',
  ].join('\n');
}

/** Writes the whole result (every phase, counts by operation and status code) as JSON and the HTML report beside it; returns both paths. */
export function writeResultFile(directory: string, document: object, html: string): { readonly json: string; readonly html: string } {
  mkdirSync(directory, { recursive: true });
  const base = join(directory, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(document, null, 2)}\n`);
  writeFileSync(`${base}.html`, html);
  return { json: `${base}.json`, html: `${base}.html` };
}
