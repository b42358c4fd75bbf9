import { expect } from 'chai';
import { renderReport } from '../src/report';
import { DEFAULT_MIX } from '../src/workload';
import type { BenchOptions } from '../src/bench';
import { fakeMachine, fakeResult } from './bench-fixture';

const OPTIONS: BenchOptions = {
  seed: 1,
  users: 16,
  threads: 2,
  channels: 2,
  levels: [16, 64],
  warmupSeconds: 3,
  stepSeconds: 5,
  openSeconds: 6,
  sessionSeconds: 4,
  markets: ['BTC-USD'],
  mix: DEFAULT_MIX,
  maxOpenOrders: 200,
  maxRequestsPerPhase: 1000,
  deadlineMs: 10_000,
  sequentialRounds: 100,
  workDir: '/tmp/unused',
};

describe('the console bench report', () => {
  const report = renderReport(fakeResult, OPTIONS, fakeMachine, 'make bench');
  const lines = report.split('\n');

  it('prints one line per sequential call with bare and ours means, their difference and the time inside matching', () => {
    for (const call of fakeResult.ours.sequential.calls) {
      const line = lines.find((l) => l.startsWith(`${call.name} `));
      expect(line, call.name).to.not.equal(undefined);
      const bare = fakeResult.bare.sequential.calls.find((c) => c.name === call.name)!;
      expect(line).to.include(`${(bare.latency.meanUs / 1000).toFixed(2)} ms`).and.include(`${(call.latency.meanUs / 1000).toFixed(2)} ms`);
      expect(line).to.include(`${((call.latency.meanUs - bare.latency.meanUs) / 1000).toFixed(2)} ms`).and.include('0.15 ms / ≤ 0.50 ms');
    }
  });

  it('checks a sequential order against a sequential read', () => {
    // The fixture's means: GetBalances 1.00 ms, PlaceLimitOrder 1.20 ms.
    expect(report).to.include(
      "ours PlaceLimitOrder - GetBalances (means): 0.20 ms   target ≤ 0.50 ms: MET; of it the journal's fdatasync 0.15 ms (mean of 200), the rest 0.05 ms",
    );
  });

  it('prints the service CPU per order beyond the bare server, unary and OrderSession', () => {
    // The fixture: 100 answers a second; ours 10 ms of CPU a second, bare 5 ms.
    expect(report).to.include(
      "server CPU per order beyond the bare server's: unary ours 100 µs vs bare 50 µs: the service adds 50 µs (target ≤ 15: NOT MET); OrderSession ours 100 µs vs bare 50 µs",
    );
  });
});
