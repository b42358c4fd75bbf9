import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (node --cpu-prof) this module reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  /** Microseconds, on the clock of process.hrtime (CLOCK_MONOTONIC on Linux). */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A group of the breakdown and the frames it takes: the first group whose test matches a sample's own frame gets its time. */
export interface Group {
  readonly name: string;
  matches(url: string, functionName: string): boolean;
}

/** The profiler's own pseudo-frames, apart from the groups: time the thread was idle, or not in JavaScript. */
export const IDLE = '(idle)';
export const PROGRAM = '(program)';

const inPackage = (pattern: RegExp): Group['matches'] => (url) => pattern.test(url);

/**
 * The matching service's parts, by source file (self time: the frame on top of the stack). Order
 * matters: the first match wins, so narrower files come before the directories around them.
 */
export const MATCHING_GROUPS: readonly Group[] = [
  { name: 'garbage collection', matches: (url, fn) => url === '' && fn === '(garbage collector)' },
  { name: 'protobuf decode/encode', matches: inPackage(/\/(@bufbuild\/protobuf|packages\/proto|protobufjs|@protobufjs)\//) },
  { name: 'grpc-js transport', matches: inPackage(/\/@grpc\/grpc-js\//) },
  { name: 'HTTP/2, net, streams (Node, not called from grpc-js)', matches: (url) => /^node:(internal\/)?(http2|net|stream|internal\/streams|internal\/stream_base_commons|internal\/js_stream_socket|events)/.test(url) },
  { name: 'auth interceptor, token check', matches: inPackage(/\/(services\/matching\/(src|dist\/src)\/auth|packages\/token-verifier)\//) },
  { name: 'validation, request inputs', matches: inPackage(/\/api\/(validation|requests)\.[jt]s$/) },
  { name: 'command encoding', matches: inPackage(/\/storage\/(command-codec|json-command-codec|journal-record)\.[jt]s$/) },
  { name: 'journal write + fdatasync', matches: inPackage(/\/storage\/(file-journal|disk-space)\.[jt]s$/) },
  { name: 'snapshot replica (main thread side)', matches: inPackage(/\/loop\/snapshot-replica[-.a-z]*\.[jt]s$/) },
  { name: 'engine', matches: inPackage(/\/packages\/engine\//) },
  { name: 'command loop, sequencer', matches: inPackage(/\/loop\//) },
  { name: 'views, statuses, event routing, feeds', matches: inPackage(/\/api\/(views|status-mapping|encoded-responses|book-feed|trade-feed|order-update-feed|sequenced-feed|subscriber|delivery-scheduler|market-data|streams|sequence-stamp)\.[jt]s$/) },
  { name: 'order entry, session, handlers', matches: inPackage(/\/services\/matching\/(src|dist\/src)\/(api\/|server\.[jt]s$)/) },
  { name: 'metrics', matches: (url) => /\/prom-client\//.test(url) || /\/ops\/(metrics|bound-histogram|call-timing|live-calls)\.[jt]s$/.test(url) },
  { name: 'logging', matches: inPackage(/\/(pino|pino-std-serializers|sonic-boom|thread-stream)\//) },
  { name: 'server-kit (field checks, gRPC errors)', matches: inPackage(/\/packages\/server-kit\//) },
  { name: "the bench's GC reporter", matches: inPackage(/\/loadgen\/(src|dist\/src)\/gc-reporter\.[jt]s$/) },
  { name: 'Node internals (buffers, timers, ticks, promises)', matches: (url) => url.startsWith('node:') },
  { name: 'native, no JavaScript caller', matches: (url, fn) => url === '' && fn !== IDLE && fn !== PROGRAM },
];

export interface Breakdown {
  /** Microseconds of samples per group (groups with none are absent), plus IDLE and PROGRAM. */
  readonly microsByGroup: ReadonlyMap<string, number>;
  /** Microseconds of samples neither idle nor (program): the thread running JavaScript or GC. */
  readonly busyMicros: number;
  /** Files of the samples no group matched, with their microseconds: a group missing. */
  readonly unmatched: ReadonlyMap<string, number>;
}

/**
 * Frames whose time belongs to their caller: native functions (a binding's write, fdatasync,
 * postMessage) and Node's own modules, charged to the nearest JavaScript file above them (Node's
 * HTTP/2 write to grpc-js, the journal's fdatasync to file-journal.ts), or when there is none (a
 * callback straight from the event loop) to the nearest frame of Node's.
 */
function chargedToCaller(url: string, functionName: string): boolean {
  return (url === '' && functionName !== '(garbage collector)') || url.startsWith('node:');
}

/** The group of every node of the profile: its own frame's, or its caller's (chargedToCaller); undefined where none matches. */
function groupsOfNodes(profile: CpuProfile, groups: readonly Group[]): { group: Map<number, string>; unmatched: Map<number, string> } {
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const group = new Map<number, string>();
  const unmatched = new Map<number, string>();
  for (const node of profile.nodes) {
    const { url, functionName } = node.callFrame;
    if (url === '' && (functionName === IDLE || functionName === PROGRAM)) {
      group.set(node.id, functionName);
      continue;
    }
    let frame = node;
    let nodeFrame = url.startsWith('node:') ? node : undefined;
    while (chargedToCaller(frame.callFrame.url, frame.callFrame.functionName)) {
      const parent = byId.get(parentOf.get(frame.id) ?? -1);
      if (parent === undefined || parent.callFrame.functionName === '(root)') {
        frame = nodeFrame ?? node;
        break;
      }
      frame = parent;
      if (nodeFrame === undefined && frame.callFrame.url.startsWith('node:')) nodeFrame = frame;
    }
    const match = groups.find((g) => g.matches(frame.callFrame.url, frame.callFrame.functionName)) ?? groups.find((g) => g.matches(url, functionName));
    if (match !== undefined) group.set(node.id, match.name);
    else unmatched.set(node.id, url === '' ? functionName : url);
  }
  return { group, unmatched };
}

/**
 * Sums the self time of the samples taken in [fromMicros, toMicros) (the profile's own clock;
 * the whole profile when absent) by group. A sample's time is the delta to the next sample, as
 * DevTools counts it.
 */
export function breakdownOf(profile: CpuProfile, groups: readonly Group[], fromMicros = -Infinity, toMicros = Infinity): Breakdown {
  const { group: groupOfNode, unmatched: unmatchedUrl } = groupsOfNodes(profile, groups);
  const microsByGroup = new Map<string, number>();
  const unmatched = new Map<string, number>();
  let busyMicros = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const next = profile.timeDeltas[i + 1] ?? 0;
    if (at < fromMicros || at >= toMicros) continue;
    const node = profile.samples[i] ?? -1;
    const group = groupOfNode.get(node);
    if (group === undefined) {
      const url = unmatchedUrl.get(node) ?? '?';
      unmatched.set(url, (unmatched.get(url) ?? 0) + next);
    } else {
      microsByGroup.set(group, (microsByGroup.get(group) ?? 0) + next);
    }
    if (group !== IDLE && group !== PROGRAM) busyMicros += next;
  }
  return { microsByGroup, busyMicros, unmatched };
}

/** The functions with the most self time in [fromMicros, toMicros), as `share function file:line`, the most first. */
export function topFunctions(profile: CpuProfile, count: number, fromMicros = -Infinity, toMicros = Infinity): string[] {
  const frameOfNode = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    if (url === '' && (functionName === IDLE || functionName === PROGRAM)) continue;
    const file = url.replace(/^.*\/(node_modules|packages|services)\//, '$1/');
    frameOfNode.set(node.id, `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`);
  }
  const micros = new Map<string, number>();
  let busy = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const frame = frameOfNode.get(profile.samples[i] ?? -1);
    if (at < fromMicros || at >= toMicros || frame === undefined) continue;
    const next = profile.timeDeltas[i + 1] ?? 0;
    busy += next;
    micros.set(frame, (micros.get(frame) ?? 0) + next);
  }
  return [...micros]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([frame, us]) => `${((us / Math.max(1, busy)) * 100).toFixed(2).padStart(6)} %  ${frame}`);
}

export function readCpuProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

/**
 * The table of a breakdown per order: each group's share of the busy samples times the main
 * thread's CPU per order (samples count wall time, which overstates CPU when the thread waits for a
 * core), largest first, then the unmatched files.
 */
/** Files no group matched that took less than this share of the busy samples are summed in one row. */
const MINOR_SHARE = 0.005;

export function renderBreakdown(breakdown: Breakdown, mainThreadCpuMicrosPerOrder: number): string {
  const busy = Math.max(1, breakdown.busyMicros);
  const minor = [...breakdown.unmatched].filter(([, micros]) => micros / busy < MINOR_SHARE);
  const rows = [
    ...breakdown.microsByGroup,
    ...[...breakdown.unmatched].filter(([, micros]) => micros / busy >= MINOR_SHARE).map(([url, micros]) => [`other: ${url}`, micros] as const),
    [`other: ${minor.length} more files`, minor.reduce((sum, [, micros]) => sum + micros, 0)] as const,
  ]
    .filter(([name, micros]) => name !== IDLE && name !== PROGRAM && micros > 0)
    .sort((a, b) => b[1] - a[1]);
  const lines = ['| µs/order | share | what |', '|---:|---:|---|'];
  for (const [name, micros] of rows) {
    const share = micros / busy;
    lines.push(`| ${(share * mainThreadCpuMicrosPerOrder).toFixed(1)} | ${(share * 100).toFixed(1)} % | ${name} |`);
  }
  lines.push(`| ${mainThreadCpuMicrosPerOrder.toFixed(1)} | 100 % | main thread, busy |`);
  return `${lines.join('\n')}\n`;
}
