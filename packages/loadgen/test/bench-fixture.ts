import type { BenchResult, MachineFacts, PhaseResult, TargetResult } from '../src/index';
import { OPERATION_KINDS } from '../src/workload';
import { SEQUENTIAL_CALLS, type SequentialResult } from '../src/sequential';

/** A phase with a timeline of `seconds` points whose values grow with `scale`. */
export function fakePhase(label: string, seconds: number, scale: number): PhaseResult {
  const timeline = Array.from({ length: seconds }, (_, i) => ({
    atSeconds: i + 1,
    throughput: scale * (100 + i),
    p50Us: scale * (500 + 10 * i),
    p99Us: scale * (2000 + 50 * i),
    rssKiB: 80_000 + 1000 * i,
    gcPauseMs: i % 3,
  }));
  return {
    label,
    entry: 'unary',
    mode: 'closed-loop',
    concurrency: 16,
    seconds,
    answered: 100 * seconds,
    throughput: scale * 100,
    ok: 100 * seconds,
    rejected: 0,
    errors: 0,
    byKind: Object.fromEntries(OPERATION_KINDS.map((kind) => [kind, {}])) as PhaseResult['byKind'],
    errorSamples: [],
    latency: { count: 100, minUs: 100, meanUs: 700, p50Us: 500, p90Us: 1500, p99Us: 2000, p999Us: 3000, maxUs: 4000 },
    generatorCpuPercent: 50,
    otherCpuPercent: 5,
    serverCpuPercent: 100 / scale,
    serverCpuSeconds: seconds / scale / 100,
    serverGcPauseMs: 10,
    timeline,
  };
}

/** Sequential figures that grow with `scale`; ours (with metrics) also has the time inside the server. */
function fakeSequential(name: string, scale: number, inside: boolean): SequentialResult {
  return {
    label: `${name} sequential`,
    rounds: 100,
    seconds: 2,
    serverCpuSeconds: 0.05,
    serverGcPauseMs: 3,
    ...(inside ? { journalSyncs: { count: 200, meanUs: 150 } } : {}),
    calls: SEQUENTIAL_CALLS.map((call, i) => ({
      name: call,
      latency: { count: 100, minUs: 500, meanUs: scale * (1000 + 100 * i), p50Us: scale * 900, p90Us: scale * 1200, p99Us: scale * 2000, p999Us: scale * 3000, maxUs: scale * 4000 },
      errors: 0,
      ...(inside ? { serverLatency: { count: 100, meanUs: 150, p50Us: 250, p99Us: 500 } } : {}),
    })),
  };
}

function fakeTarget(name: string, scale: number): TargetResult {
  const sweep = [fakePhase(`${name} unary c=16`, 5, scale), fakePhase(`${name} unary c=64`, 5, scale)];
  return {
    name,
    sequential: fakeSequential(name, scale, name === 'ours'),
    warmup: fakePhase(`${name} unary warm-up c=64`, 3, scale),
    sweep,
    best: sweep[1]!,
    halfLoad: fakePhase(`${name} unary open loop 50/s`, 6, scale),
    session: fakePhase(`${name} session c=64`, 4, scale),
    processes: {},
  };
}

const tlsSweep = [fakePhase('ours over TLS unary c=16', 5, 1), fakePhase('ours over TLS unary c=64', 5, 1)];

export const fakeResult: BenchResult = {
  ours: fakeTarget('ours', 1),
  tls: { warmup: fakePhase('ours over TLS unary warm-up c=64', 3, 1), sweep: tlsSweep, best: tlsSweep[1]!, ratio: 0.9 },
  bare: fakeTarget('bare', 2),
  unaryRatio: 0.5,
  sessionRatio: 0.5,
  halfLoadRate: 50,
  accessTokenLength: 200,
};
export const fakeMachine: MachineFacts = { cpus: 2, cpuModel: 'test CPU', memoryGiB: 8, kernel: '6.1', node: 'v22', commit: 'abc1234', busyBeforePercent: 10 };
