import { expect } from 'chai';
import { breakdownOf, type CpuProfile, MATCHING_GROUPS, renderBreakdown } from '../src/cpu-profile-breakdown';

const ROOT = '/work/orderbook';

function frame(id: number, functionName: string, url: string, children: number[] = []): CpuProfile['nodes'][number] {
  return { id, callFrame: { functionName, url, lineNumber: 0 }, children };
}

/** root → appendAll (file-journal) → fdatasync (native); root → apply (engine); root → GC; root → idle. */
const PROFILE: CpuProfile = {
  nodes: [
    frame(1, '(root)', '', [2, 4, 5, 6, 7]),
    frame(2, 'append', `file://${ROOT}/services/matching/dist/src/storage/file-journal.js`, [3]),
    frame(3, 'fdatasync', ''),
    frame(4, 'apply', `file://${ROOT}/packages/engine/dist/src/engine.js`),
    frame(5, '(garbage collector)', ''),
    frame(6, '(idle)', ''),
    frame(7, 'mystery', `file://${ROOT}/node_modules/unknown/index.js`),
  ],
  startTime: 1_000,
  endTime: 1_600,
  // One sample every 100 µs from 1,000: fdatasync, apply, apply, GC, idle, mystery.
  samples: [3, 4, 4, 5, 6, 7],
  timeDeltas: [0, 100, 100, 100, 100, 100],
};

describe('cpu-profile-breakdown', () => {
  it('sums self time by group, a native frame charged to its JavaScript caller, idle apart', () => {
    const { microsByGroup, busyMicros, unmatched } = breakdownOf(PROFILE, MATCHING_GROUPS);
    expect(Object.fromEntries(microsByGroup)).to.deep.equal({ 'journal write + fdatasync': 100, engine: 200, 'garbage collection': 100, '(idle)': 100 });
    expect(Object.fromEntries(unmatched)).to.deep.equal({ [`file://${ROOT}/node_modules/unknown/index.js`]: 0 });
    expect(busyMicros).to.equal(400);
  });

  it('counts only the samples inside the window', () => {
    const { microsByGroup, busyMicros } = breakdownOf(PROFILE, MATCHING_GROUPS, 1_100, 1_300);
    expect(Object.fromEntries(microsByGroup)).to.deep.equal({ engine: 200 });
    expect(busyMicros).to.equal(200);
  });

  it('renders each group as its share of the busy samples times the CPU per order', () => {
    const table = renderBreakdown(breakdownOf(PROFILE, MATCHING_GROUPS, 1_100, 1_300), 10);
    expect(table).to.contain('| 10.0 | 100.0 % | engine |');
    expect(table).to.contain('| 10.0 | 100 % | main thread, busy |');
  });
});
