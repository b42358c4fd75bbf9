import type { BenchResult, TargetResult } from './bench';
import type { MachineFacts } from './machine';
import type { LatencySummary } from './histogram';
import type { PhaseResult, TimelinePoint } from './phase';
import { formatCount, formatMs } from './format';
import { escapeHtml, renderLineChart, type ChartSeries } from './svg-chart';

const OURS = '#1f77b4';
const BARE = '#d62728';

/** The phases of both targets that ran the same command, paired in running order. */
function phasePairs(result: BenchResult): Array<{ readonly title: string; readonly ours: PhaseResult; readonly bare: PhaseResult | undefined }> {
  const of = (target: TargetResult): PhaseResult[] => [target.warmup, ...target.sweep, target.halfLoad, target.session];
  const bare = of(result.bare);
  return of(result.ours).map((ours, index) => ({ title: ours.label.replace(/^ours /, ''), ours, bare: bare[index] }));
}

function series(name: string, color: string, timeline: readonly TimelinePoint[] | undefined, value: (p: TimelinePoint) => number | undefined, dashed = false): ChartSeries {
  const points = (timeline ?? []).flatMap((p): Array<readonly [number, number]> => {
    const y = value(p);
    return y === undefined ? [] : [[p.atSeconds, y]];
  });
  return { name, color, points, ...(dashed ? { dashed } : {}) };
}

function phaseSection(title: string, ours: PhaseResult, bare: PhaseResult | undefined): string {
  const o = ours.timeline;
  const b = bare?.timeline;
  const charts = [
    renderLineChart({ title: 'Throughput', unit: 'answers/s', series: [series('ours', OURS, o, (p) => p.throughput), series('bare', BARE, b, (p) => p.throughput)] }),
    renderLineChart({
      title: 'Latency p50 (dashed) and p99',
      unit: 'ms',
      series: [
        series('ours p99', OURS, o, (p) => (p.p99Us === undefined ? undefined : p.p99Us / 1000)),
        series('ours p50', OURS, o, (p) => (p.p50Us === undefined ? undefined : p.p50Us / 1000), true),
        series('bare p99', BARE, b, (p) => (p.p99Us === undefined ? undefined : p.p99Us / 1000)),
        series('bare p50', BARE, b, (p) => (p.p50Us === undefined ? undefined : p.p50Us / 1000), true),
      ],
    }),
    renderLineChart({ title: 'Server GC pauses', unit: 'ms per s', series: [series('ours', OURS, o, (p) => p.gcPauseMs), series('bare', BARE, b, (p) => p.gcPauseMs)] }),
    renderLineChart({ title: 'Server resident memory', unit: 'MiB', series: [series('ours', OURS, o, (p) => (p.rssKiB === undefined ? undefined : p.rssKiB / 1024)), series('bare', BARE, b, (p) => (p.rssKiB === undefined ? undefined : p.rssKiB / 1024))] }),
  ];
  const figures = (name: string, phase: PhaseResult | undefined): string =>
    phase === undefined ? '' : `<li>${name}: ${formatCount(phase.throughput)} answers/s, p50 ${formatMs(phase.latency.p50Us)}, p99 ${formatMs(phase.latency.p99Us)}, errors ${formatCount(phase.errors)}</li>`;
  return `<section class="phase"><h2>${escapeHtml(title)}</h2><ul>${figures('ours', ours)}${figures('bare', bare)}</ul><div class="charts">${charts.join('')}</div></section>`;
}

/** One call at a time: client-side mean and percentiles per call, ours beside bare, and the time inside matching. */
function sequentialSection(result: BenchResult): string {
  const ours = result.ours.sequential;
  const bare = result.bare.sequential;
  const cells = (latency: LatencySummary | undefined): string =>
    latency === undefined ? '<td>-</td>'.repeat(4) : [latency.meanUs, latency.p50Us, latency.p90Us, latency.p99Us].map((us) => `<td>${formatMs(us)}</td>`).join('');
  const rows = ours.calls.map((call) => {
    const twin = bare.calls.find((c) => c.name === call.name);
    const inside = call.serverLatency === undefined ? '-' : `${formatMs(call.serverLatency.meanUs)} mean`;
    return `<tr><th>${escapeHtml(call.name)}</th>${cells(twin?.latency)}${cells(call.latency)}<td>${escapeHtml(inside)}</td></tr>`;
  });
  const head = '<tr><th>call</th><th>bare mean</th><th>p50</th><th>p90</th><th>p99</th><th>ours mean</th><th>p50</th><th>p90</th><th>p99</th><th>inside matching</th></tr>';
  return `<section class="sequential"><h2>One call at a time (${formatCount(ours.rounds)} rounds)</h2><p>One client, one connection, each call sent once the previous one was answered.</p><table>${head}${rows.join('')}</table></section>`;
}

/**
 * The benchmark as one self-contained HTML page (inline SVG, no script, nothing fetched): for each
 * phase, throughput, p50/p99, GC pauses and RSS of the loaded server over time, ours beside bare.
 */
export function renderHtmlReport(result: BenchResult, machine: MachineFacts, command: string, startedAt: string): string {
  const sections = phasePairs(result).map(({ title, ours, bare }) => phaseSection(title, ours, bare));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Orderbook bench ${escapeHtml(startedAt)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}.charts{display:flex;flex-wrap:wrap;gap:12px}svg{background:#fff;border:1px solid #eee}h2{margin-top:32px}td,th{padding:2px 8px;text-align:right}</style>
</head><body>
<h1>Orderbook benchmark</h1>
<p>${escapeHtml(command)} — started ${escapeHtml(startedAt)}; ${machine.cpus} × ${escapeHtml(machine.cpuModel)}, ${machine.memoryGiB} GiB, Linux ${escapeHtml(machine.kernel)}, Node ${escapeHtml(machine.node)}, commit ${escapeHtml(machine.commit)}; CPU busy before the run: ${machine.busyBeforePercent}% of one core (other work on the machine skews every figure: compare ours with bare, measured in the same run).</p>
<p>ours / bare: unary ${result.unaryRatio.toFixed(2)}, OrderSession ${result.sessionRatio.toFixed(2)}; open loop at ${formatCount(result.halfLoadRate)}/s. <span style="color:${OURS}">ours</span> is auth + matching, <span style="color:${BARE}">bare</span> the grpc-js ceiling; each point is one second.</p>
${sequentialSection(result)}
${sections.join('\n')}
</body></html>
`;
}
