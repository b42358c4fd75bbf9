import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { expect } from 'chai';
import type { Logger } from '@orderbook/server-kit';
import { ConnectionLimits, RefusalLog } from '../src/connection-limits';

/** Just what the limits use of a socket: its address, close and destroy. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(readonly remoteAddress: string) {
    super();
  }
  destroy(): void {
    this.destroyed = true;
  }
  close(): void {
    this.emit('close');
  }
}

describe('gateway connection limits', () => {
  const admit = (limits: ConnectionLimits, address: string) => {
    const socket = new FakeSocket(address);
    return { socket, refusal: limits.admit(socket as unknown as Socket) };
  };

  it('closes a connection past the per-address limit or the total at once, and counts a closed one no more', () => {
    const limits = new ConnectionLimits(3, 2, () => false);
    const a1 = admit(limits, '192.0.2.1');
    admit(limits, '::ffff:192.0.2.1');
    const a3 = admit(limits, '192.0.2.1');
    expect([a1.refusal, a3.refusal, a3.socket.destroyed]).to.deep.equal([undefined, 'peer', true]);
    admit(limits, '192.0.2.2');
    expect(admit(limits, '192.0.2.3').refusal).to.equal('total');
    a1.socket.close();
    expect(admit(limits, '192.0.2.1').refusal).to.equal(undefined);
  });

  it('counts a trusted proxy in the total only', () => {
    const limits = new ConnectionLimits(3, 1, (address) => address === '10.0.0.5');
    expect([1, 2, 3].map(() => admit(limits, '10.0.0.5').refusal)).to.deep.equal([undefined, undefined, undefined]);
    expect(admit(limits, '10.0.0.5').refusal).to.equal('total');
  });

  it('logs refusals at most every ten seconds, with how many there were', () => {
    const lines: { refused: number; limit: string }[] = [];
    const logger = { warn: (fields: { refused: number; limit: string }) => lines.push(fields) } as unknown as Logger;
    let now = 0;
    const log = new RefusalLog(logger, () => now);
    for (let i = 0; i < 5; i += 1) log.note('peer', '192.0.2.1');
    now = 10_000;
    log.note('total', '192.0.2.9');
    expect(lines.map((l) => [l.refused, l.limit])).to.deep.equal([
      [1, 'GATEWAY_MAX_CONNECTIONS_PER_PEER'],
      [5, 'GATEWAY_MAX_CONNECTIONS'],
    ]);
  });
});
