import { expect } from 'chai';
import { latencyBetween, orderCalls, parseCallHistograms, parseJournalSyncs } from '../src/server-latency';

/** A /metrics page with the call histogram of two order methods, a read method and another metric; each series' sum is its count times 0.4 ms. */
function page(place: readonly number[], cancel: readonly number[], reads: readonly number[]): string {
  const bounds = ['0.0005', '0.001', '0.005', '+Inf'];
  const series = (method: string, code: string, counts: readonly number[]): string[] =>
    bounds.map((le, i) => `matching_call_duration_seconds_bucket{le="${le}",method="${method}",code="${code}"} ${counts[i] ?? 0}`);
  return [
    '# HELP matching_call_duration_seconds Unary RPCs ...',
    '# TYPE matching_call_duration_seconds histogram',
    ...series('PlaceLimitOrder', 'OK', place),
    ...series('CancelOrder', 'NOT_FOUND', cancel),
    ...series('GetOrderBook', 'OK', reads),
    `matching_call_duration_seconds_sum{method="PlaceLimitOrder",code="OK"} ${(place.at(-1) ?? 0) * 0.0004}`,
    `matching_call_duration_seconds_sum{method="CancelOrder",code="NOT_FOUND"} ${(cancel.at(-1) ?? 0) * 0.0004}`,
    `matching_call_duration_seconds_sum{method="GetOrderBook",code="OK"} ${(reads.at(-1) ?? 0) * 0.0004}`,
    'matching_call_duration_seconds_count{method="PlaceLimitOrder",code="OK"} 999',
    'matching_command_duration_seconds_bucket{le="0.001",kind="placeLimit",outcome="accepted"} 999',
  ].join('\n');
}

describe('time inside matching, from its call histogram', () => {
  it('sums the order RPCs over methods and codes, and leaves reads and other metrics out', () => {
    const orders = orderCalls(parseCallHistograms(page([1, 2, 3, 3], [0, 1, 1, 2], [100, 100, 100, 100])));
    expect(orders.sumSeconds).to.be.closeTo(5 * 0.0004, 1e-12);
    expect([...orders.buckets.entries()]).to.deep.equal([
      [0.0005, 1],
      [0.001, 3],
      [0.005, 4],
      [Infinity, 5],
    ]);
  });

  it('gives the bucket bound of each quantile over the calls between two scrapes', () => {
    const before = orderCalls(parseCallHistograms(page([10, 10, 10, 10], [0, 0, 0, 0], [5, 5, 5, 5])));
    // 100 calls in between: 50 under 0.5 ms, 49 more under 1 ms, the last one under 5 ms.
    const after = orderCalls(parseCallHistograms(page([60, 109, 110, 110], [0, 0, 0, 0], [500, 500, 500, 500])));
    const between = latencyBetween(before, after);
    expect({ ...between, meanUs: Math.round(between.meanUs) }).to.deep.equal({ count: 100, meanUs: 400, p50Us: 500, p99Us: 1000 });
    const slowTail = orderCalls(parseCallHistograms(page([60, 60, 60, 110], [0, 0, 0, 0], [5, 5, 5, 5])));
    expect(latencyBetween(before, slowTail)).to.include({ count: 100, p50Us: 500, p99Us: Infinity });
  });

  it('reports nothing for a phase with no call', () => {
    const same = orderCalls(parseCallHistograms(page([1, 2, 3, 3], [0, 0, 0, 0], [0, 0, 0, 0])));
    expect(latencyBetween(same, same)).to.deep.equal({ count: 0, meanUs: 0, p50Us: 0, p99Us: 0 });
  });

  it('keeps each method apart, a read among them; a method first seen after the phase began counts from zero', () => {
    const before = parseCallHistograms(page([10, 10, 10, 10], [0, 0, 0, 0], [5, 5, 5, 5]));
    const after = parseCallHistograms(page([10, 10, 10, 10], [0, 0, 0, 0], [55, 105, 105, 105]));
    expect([...after.keys()].sort()).to.deep.equal(['CancelOrder', 'GetOrderBook', 'PlaceLimitOrder']);
    expect(latencyBetween(before.get('PlaceLimitOrder'), after.get('PlaceLimitOrder')!).count).to.equal(0);
    expect(latencyBetween(before.get('GetOrderBook'), after.get('GetOrderBook')!)).to.include({ count: 100, p50Us: 500, p99Us: 1000 });
    expect(latencyBetween(undefined, after.get('GetOrderBook')!)).to.include({ count: 105, p50Us: 500 });
  });

  it("reads the journal's sync count and seconds, and zeros when matching has not synced yet", () => {
    const page = ['matching_journal_fsync_duration_seconds_bucket{le="0.0001"} 3', 'matching_journal_fsync_duration_seconds_sum 0.0125', 'matching_journal_fsync_duration_seconds_count 7'].join('\n');
    expect(parseJournalSyncs(page)).to.deep.equal({ count: 7, sumSeconds: 0.0125 });
    expect(parseJournalSyncs('')).to.deep.equal({ count: 0, sumSeconds: 0 });
  });
});
