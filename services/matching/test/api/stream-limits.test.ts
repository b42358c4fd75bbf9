import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { StreamLimits } from '../../src/api/stream-limits';

function refusal(admit: () => unknown): ServiceError & { richDetails?: { reason: string; retryDelayMs?: number } } {
  try {
    admit();
  } catch (err) {
    return err as ServiceError;
  }
  return expect.fail('expected a refusal');
}

describe('stream limits', () => {
  it('counts streams per client address, whatever its port, and in total; refusals carry a reason and RetryInfo', () => {
    const limits = new StreamLimits({ maxStreams: 3, maxStreamsPerPeer: 2, memoryBudgetBytes: 1000 });
    const leaveA1 = limits.admit('10.0.0.1');
    limits.admit('10.0.0.1');
    const perPeer = refusal(() => limits.admit('10.0.0.1'));
    expect(perPeer.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(perPeer.richDetails).to.deep.include({ reason: 'TOO_MANY_STREAMS_FROM_PEER', retryDelayMs: 1000 });
    limits.admit('::1');
    const total = refusal(() => limits.admit('10.0.0.2'));
    expect(total.richDetails).to.deep.include({ reason: 'TOO_MANY_STREAMS' });
    leaveA1();
    leaveA1();
    expect(limits.openStreams(), 'leaving twice counts once').to.equal(2);
    limits.admit('10.0.0.2');
  });

  it('keeps writes within the memory budget', () => {
    const limits = new StreamLimits({ maxStreams: 1, maxStreamsPerPeer: 1, memoryBudgetBytes: 1000 });
    limits.reserve(999);
    expect(limits.hasRoom()).to.equal(true);
    limits.reserve(1);
    expect(limits.hasRoom()).to.equal(false);
    limits.release(500);
    expect(limits.hasRoom()).to.equal(true);
  });
});
