import { expect } from 'chai';
import type { Command } from '@orderbook/engine';
import { CommandDecodeError, decodeBatch, encodeBatch, encodeCommand } from '../../src/storage/command-codec';
import { decodeJsonCommand } from '../../src/storage/json-command-codec';
import { sampleCommands } from '../helpers';

const batchOf = (commands: readonly Command[]): Buffer => encodeBatch(commands.map(encodeCommand));

describe('command codec', () => {
  it('round-trips every kind of command, bigints and optional fields included', () => {
    const commands = sampleCommands(1, 8);
    expect(new Set(commands.map((c) => c.kind)).size).to.equal(4);
    expect(decodeBatch(batchOf(commands))).to.deep.equal(commands);
    expect(decodeBatch(batchOf([]))).to.deep.equal([]);
  });

  it('keeps amounts outside u64 (which the engine refuses) as they were, and non-ASCII text', () => {
    const [deposit, limit] = sampleCommands(1, 2) as [Extract<Command, { kind: 'deposit' }>, Extract<Command, { kind: 'placeLimit' }>];
    const odd: Command[] = [
      { ...deposit, amount: -5n, userId: 'zoë' },
      { ...deposit, seq: 2, amount: 1n << 64n },
      { ...limit, seq: 3, price: (1n << 64n) - 1n, quantity: 0n, clientOrderId: 'é-1', timeInForce: 'FOK', postOnly: true, selfTradePrevention: 'cancel_both' },
    ];
    expect(decodeBatch(batchOf(odd))).to.deep.equal(odd);
  });

  it('leaves an absent clientOrderId absent', () => {
    const [market] = sampleCommands(3, 1);
    expect(market).to.not.have.property('clientOrderId');
    expect(Object.keys(decodeBatch(batchOf([market!]))[0]!)).not.to.include('clientOrderId');
  });

  it('keeps fields outside the command type out of the journal', () => {
    const [deposit] = sampleCommands(1, 1);
    const encoded = encodeCommand({ ...deposit, password: 'secret' } as typeof deposit & { password: string });
    expect(encoded.toString('latin1')).not.to.contain('secret');
  });

  it('is compact: a limit order in under 100 bytes', () => {
    const limit = sampleCommands(1, 2)[1]!;
    expect(limit.kind).to.equal('placeLimit');
    expect(encodeCommand(limit).length).to.be.below(100);
  });

  it('reads the JSON records of earlier versions', () => {
    const json = Buffer.from(
      '[{"kind":"deposit","seq":1,"timestamp":5,"userId":"ann","asset":"USD","amount":"100"},' +
        '{"kind":"placeLimit","seq":2,"timestamp":6,"orderId":2,"userId":"ann","market":"BTC-USD","side":"buy","price":"7","quantity":"8",' +
        '"timeInForce":"GTC","postOnly":false,"selfTradePrevention":"cancel_resting","clientOrderId":"a"}]',
    );
    expect(decodeBatch(json)).to.deep.equal([
      { kind: 'deposit', seq: 1, timestamp: 5, userId: 'ann', asset: 'USD', amount: 100n },
      { kind: 'placeLimit', seq: 2, timestamp: 6, orderId: 2, userId: 'ann', market: 'BTC-USD', side: 'buy', price: 7n, quantity: 8n,
        timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting', clientOrderId: 'a' },
    ]);
    const record = { kind: 'placeLimit', seq: 2, timestamp: 6, orderId: 2, userId: 'ann', market: 'BTC-USD', side: 'buy', price: '7', quantity: '8',
      timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting' };
    expect(() => decodeJsonCommand({ ...record, price: 12 })).to.throw(CommandDecodeError, /"price"/);
    expect(() => decodeJsonCommand({ ...record, side: 'up' })).to.throw(CommandDecodeError, /"side"/);
    expect(() => decodeJsonCommand({ ...record, seq: undefined })).to.throw(CommandDecodeError, /"seq"/);
    expect(() => decodeJsonCommand({ ...record, kind: 'withdraw' })).to.throw(CommandDecodeError, /"kind"/);
    expect(() => decodeBatch(Buffer.from('[{"kind":"cancel"'))).to.throw(CommandDecodeError, /not JSON/);
  });

  it('rejects a record of another format, cut short, with bytes left over or a bad field, naming it', () => {
    const batch = batchOf(sampleCommands(1, 4));
    expect(() => decodeBatch(Buffer.from('{"kind":"cancel"}'))).to.throw(CommandDecodeError, 'journal record of unknown format 123');
    expect(() => decodeBatch(Buffer.alloc(0))).to.throw(CommandDecodeError, 'journal record of unknown format (empty)');
    expect(() => decodeBatch(batch.subarray(0, batch.length - 1))).to.throw(CommandDecodeError, /^journal record ends inside field/);
    expect(() => decodeBatch(batch.subarray(0, 3))).to.throw(CommandDecodeError, 'journal record ends inside field "count" (byte 1 of 3)');
    expect(() => decodeBatch(Buffer.concat([batch, Buffer.from([0])]))).to.throw(CommandDecodeError, 'journal record has 1 bytes after its last command');
    expect(batch.at(-1)).to.equal(0xee);
    expect(() => decodeBatch(Buffer.concat([batch.subarray(0, batch.length - 1), Buffer.from([0])]))).to.throw(
      CommandDecodeError,
      'journal record lacks its end mark after its last command',
    );
    const kind = Buffer.from(batch);
    kind[5] = 9;
    expect(() => decodeBatch(kind)).to.throw(CommandDecodeError, 'journal command field "kind" has code 9, expected below 4');
    const seq = Buffer.from(batch);
    seq.writeDoubleLE(1.5, 6);
    expect(() => decodeBatch(seq)).to.throw(CommandDecodeError, 'journal command field "seq" is 1.5, expected an integer');
    const deposit = sampleCommands(1, 1);
    const amount = batchOf(deposit);
    // The deposit's amount tag follows its header (5), kind, seq, timestamp (17) and two strings.
    const tagAt = 5 + 17 + 4 + Buffer.byteLength((deposit[0] as { userId: string }).userId) + 4 + 3;
    amount[tagAt] = 2;
    expect(() => decodeBatch(amount)).to.throw(CommandDecodeError);
  });
});
