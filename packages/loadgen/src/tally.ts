import { status } from '@grpc/grpc-js';
import { Histogram, type LatencySummary } from './histogram';
import type { Outcome } from './clients';
import { EXPECTED_REJECTIONS, OPERATION_KINDS, type OperationKind } from './workload';

/** How many distinct error messages a phase keeps, to show what went wrong without storing them all. */
const ERROR_SAMPLES = 5;

/** Counts per status code name, e.g. { OK: 10, FAILED_PRECONDITION: 2 }. */
export type CodeCounts = Record<string, number>;

export interface TallySnapshot {
  /** OK answers. */
  readonly ok: number;
  /** Non-OK answers that are correct for the workload (see EXPECTED_REJECTIONS). */
  readonly rejected: number;
  /** Every other non-OK answer, including deadlines and broken streams. */
  readonly errors: number;
  readonly byKind: Readonly<Record<OperationKind, CodeCounts>>;
  readonly errorSamples: readonly string[];
  readonly latency: LatencySummary;
}

/** Every answer of a phase: its status (checked for each response) and its latency; plus a one-second window for the progress line. */
export class Tally {
  readonly latency = new Histogram();
  readonly window = new Histogram();
  /** Latency since the timeline's last point (phase.ts reads and resets it). */
  readonly interval = new Histogram();
  ok = 0;
  rejected = 0;
  errors = 0;
  private readonly byKind: Record<OperationKind, CodeCounts>;
  private readonly errorSamples = new Set<string>();

  constructor() {
    this.byKind = Object.fromEntries(OPERATION_KINDS.map((kind) => [kind, {}])) as Record<OperationKind, CodeCounts>;
  }

  get answered(): number {
    return this.ok + this.rejected + this.errors;
  }

  record(kind: OperationKind, outcome: Outcome, micros: number): void {
    this.latency.record(micros);
    this.window.record(micros);
    this.interval.record(micros);
    const name = status[outcome.code] ?? `CODE_${outcome.code}`;
    const counts = this.byKind[kind];
    counts[name] = (counts[name] ?? 0) + 1;
    if (outcome.code === status.OK) this.ok += 1;
    else if (EXPECTED_REJECTIONS[kind].includes(outcome.code)) this.rejected += 1;
    else {
      this.errors += 1;
      if (this.errorSamples.size < ERROR_SAMPLES) this.errorSamples.add(`${kind}: ${name}: ${outcome.details ?? ''}`);
    }
  }

  snapshot(): TallySnapshot {
    return {
      ok: this.ok,
      rejected: this.rejected,
      errors: this.errors,
      byKind: structuredClone(this.byKind),
      errorSamples: [...this.errorSamples],
      latency: this.latency.summary(),
    };
  }
}
