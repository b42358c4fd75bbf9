import { expect } from 'chai';
import { CommandDecodeError, decodeBatch, decodeCommand, encodeBatch, encodeCommand } from '../../src/storage/command-codec';
import { sampleCommands } from '../helpers';

describe('command codec', () => {
  it('round-trips every kind of command, bigints and optional fields included', () => {
    const commands = sampleCommands(1, 8);
    expect(decodeBatch(encodeBatch(commands.map(encodeCommand)))).to.deep.equal(commands);
  });

  it('leaves an absent clientOrderId absent', () => {
    const [market] = sampleCommands(3, 1);
    expect(Object.keys(decodeCommand(JSON.parse(encodeCommand(market))))).not.to.include('clientOrderId');
  });

  it('round-trips a cancel by client order id, a deposit with a request id, amendments and mass cancels, and reads journals written without them as before', () => {
    const cancel = { kind: 'cancel', seq: 7, timestamp: 70, userId: 'u', orderId: 0, clientOrderId: 'c-1' } as const;
    const deposit = { kind: 'deposit', seq: 8, timestamp: 80, userId: 'u', asset: 'USD', amount: 5n, requestId: 'r-1' } as const;
    const amendById = { kind: 'amend', seq: 9, timestamp: 90, userId: 'u', orderId: 4, price: 7n } as const;
    const amendByClientId = { kind: 'amend', seq: 10, timestamp: 100, userId: 'u', orderId: 0, clientOrderId: 'c-1', quantity: 8n } as const;
    const cancelAll = { kind: 'cancelAll', seq: 11, timestamp: 110, userId: 'u', market: 'BTC-USD', side: 'sell' } as const;
    const cancelEverything = { kind: 'cancelAll', seq: 12, timestamp: 120, userId: 'u' } as const;
    const commands = [cancel, deposit, amendById, amendByClientId, cancelAll, cancelEverything];
    expect(commands.map((c) => decodeCommand(JSON.parse(encodeCommand(c))))).to.deep.equal(commands);
    const older = decodeBatch(Buffer.from('[{"kind":"cancel","seq":1,"timestamp":2,"userId":"u","orderId":3},{"kind":"deposit","seq":2,"timestamp":3,"userId":"u","asset":"USD","amount":"4"}]'));
    expect(older).to.deep.equal([
      { kind: 'cancel', seq: 1, timestamp: 2, userId: 'u', orderId: 3 },
      { kind: 'deposit', seq: 2, timestamp: 3, userId: 'u', asset: 'USD', amount: 4n },
    ]);
  });

  it('keeps fields outside the command type out of the journal', () => {
    const [deposit] = sampleCommands(1, 1);
    const encoded = encodeCommand({ ...deposit, password: 'secret' } as typeof deposit & { password: string });
    expect(encoded).not.to.contain('secret');
  });

  it('rejects a command with a missing or mistyped field, naming the field', () => {
    const record = JSON.parse(encodeCommand(sampleCommands(1, 2)[1])) as Record<string, unknown>;
    expect(() => decodeCommand({ ...record, price: 12 })).to.throw(CommandDecodeError, /"price"/);
    expect(() => decodeCommand({ ...record, side: 'up' })).to.throw(CommandDecodeError, /"side"/);
    expect(() => decodeCommand({ ...record, seq: undefined })).to.throw(CommandDecodeError, /"seq"/);
    expect(() => decodeCommand({ ...record, kind: 'withdraw' })).to.throw(CommandDecodeError, /"kind"/);
    expect(() => decodeBatch(Buffer.from('{"kind":"cancel"}'))).to.throw(CommandDecodeError, /array/);
  });
});
