import type { BenchResult, MachineFacts, PhaseResult, TargetResult } from '../src/index';
import { OPERATION_KINDS } from '../src/workload';

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
    timeline,
  };
}

function fakeTarget(name: string, scale: number): TargetResult {
  const sweep = [fakePhase(`${name} unary c=16`, 5, scale), fakePhase(`${name} unary c=64`, 5, scale)];
  return {
    name,
    warmup: fakePhase(`${name} unary warm-up c=64`, 3, scale),
    sweep,
    best: sweep[1]!,
    halfLoad: fakePhase(`${name} unary open loop 50/s`, 6, scale),
    session: fakePhase(`${name} session c=64`, 4, scale),
    processes: {},
  };
}

export const fakeResult: BenchResult = { ours: fakeTarget('ours', 1), bare: fakeTarget('bare', 2), unaryRatio: 0.5, sessionRatio: 0.5, halfLoadRate: 50, accessTokenLength: 200 };
export const fakeMachine: MachineFacts = { cpus: 2, cpuModel: 'test CPU', memoryGiB: 8, kernel: '6.1', node: 'v22', commit: 'abc1234', busyBeforePercent: 10 };
