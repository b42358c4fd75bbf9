import { expect } from 'chai';
import { type Command, Engine, LIMIT_NAMES } from '@orderbook/engine';
import { CommandDecodeError, decodeBatch, encodeBatch, encodeCommand, encodeCommands } from '../../src/storage/command-codec';
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
    expect(encodeCommands(odd), 'one buffer for the batch, the same bytes').to.deep.equal(batchOf(odd));
    const many = sampleCommands(1, 200);
    expect(encodeCommands(many)).to.deep.equal(batchOf(many));
    expect(encodeCommands([])).to.deep.equal(batchOf([]));
  });

  it('leaves an absent clientOrderId absent', () => {
    const [market] = sampleCommands(3, 1);
    expect(market).to.not.have.property('clientOrderId');
    expect(Object.keys(decodeBatch(batchOf([market!]))[0]!)).not.to.include('clientOrderId');
  });

  it('round-trips a cancel by client order id, a deposit with a request id, amendments and mass cancels, absent fields staying absent', () => {
    const commands: Command[] = [
      { kind: 'cancel', seq: 7, timestamp: 70, userId: 'u', orderId: 0, clientOrderId: 'c-1' },
      { kind: 'cancel', seq: 8, timestamp: 80, userId: 'u', orderId: 3 },
      { kind: 'deposit', seq: 9, timestamp: 90, userId: 'u', asset: 'USD', amount: 5n, requestId: 'r-é' },
      { kind: 'amend', seq: 10, timestamp: 100, userId: 'u', orderId: 4, price: 7n },
      { kind: 'amend', seq: 11, timestamp: 110, userId: 'u', orderId: 0, clientOrderId: 'c-1', quantity: 1n << 64n },
      { kind: 'amend', seq: 12, timestamp: 120, userId: 'u', orderId: 5, price: (1n << 64n) - 1n, quantity: -2n },
      { kind: 'amend', seq: 13, timestamp: 130, userId: 'u', orderId: 6 },
      { kind: 'cancelAll', seq: 14, timestamp: 140, userId: 'u', market: 'BTC-USD', side: 'sell' },
      { kind: 'cancelAll', seq: 15, timestamp: 150, userId: 'u', side: 'buy' },
      { kind: 'cancelAll', seq: 16, timestamp: 160, userId: 'u', market: 'ETH-USD' },
      { kind: 'cancelAll', seq: 17, timestamp: 170, userId: 'u' },
    ];
    const decoded = decodeBatch(batchOf(commands));
    expect(decoded).to.deep.equal(commands);
    decoded.forEach((command, i) => expect(Object.keys(command), `command ${i}`).to.deep.equal(Object.keys(commands[i]!)));
    for (const command of commands) expect(decodeBatch(batchOf([command]))).to.deep.equal([command]);
  });

  it('round-trips the timer commands and GTD placements; a limit order without an expiry encodes as before', () => {
    const [, limit] = sampleCommands(1, 2) as [Command, Extract<Command, { kind: 'placeLimit' }>];
    const commands: Command[] = [
      { ...limit, seq: 20, timeInForce: 'GTD', expireAt: 1_700_000_060_000, postOnly: true },
      { ...limit, seq: 21, timeInForce: 'GTC', expireAt: 5 },
      { kind: 'expire', seq: 22, timestamp: 220 },
      { kind: 'cancelAllAfter', seq: 23, timestamp: 230, userId: 'u', timeoutSeconds: 60 },
      { kind: 'cancelAllAfter', seq: 24, timestamp: 240, userId: 'u', timeoutSeconds: 0 },
      { kind: 'cancelSession', seq: 25, timestamp: 250, userId: 'ü', orderIds: [3, 1, 2 ** 53 - 1] },
      { kind: 'cancelSession', seq: 26, timestamp: 260, userId: 'u', orderIds: [] },
    ];
    const decoded = decodeBatch(batchOf(commands));
    expect(decoded).to.deep.equal(commands);
    decoded.forEach((command, i) => expect(Object.keys(command).sort(), `command ${i}`).to.deep.equal(Object.keys(commands[i]!).sort()));
    // Without an expiry the flags byte is the postOnly byte that format 2 always had: 0 or 1.
    const plain = encodeCommand({ ...limit, postOnly: true });
    const gtd = encodeCommand({ ...limit, postOnly: true, timeInForce: 'GTD', expireAt: 1 });
    expect(gtd.length - plain.length).to.equal(8);
    // The flags byte comes before the client order id: present (1), its length (4) and its bytes.
    const flagsAt = plain.length - 1 - 1 - 4 - Buffer.byteLength(limit.clientOrderId!);
    expect([plain[flagsAt], gtd[flagsAt]]).to.deep.equal([1, 3]);
    const bad = batchOf([{ ...limit, postOnly: true }]);
    bad[5 + flagsAt] = 4;
    expect(() => decodeBatch(bad)).to.throw(CommandDecodeError, 'journal command field "postOnly" has code 4, expected below 4');
  });

  it('round-trips withdrawals and deposits that name their admin; a deposit without one is written as before', () => {
    const commands: Command[] = [
      { kind: 'withdraw', seq: 1, timestamp: 10, userId: 'u', asset: 'USD', amount: 5n, adminId: 'admin-1', reference: 'wire 1' },
      { kind: 'withdraw', seq: 2, timestamp: 20, userId: 'u', asset: 'BTC', amount: 1n << 64n, requestId: 'w-1', adminId: 'a', reference: 'tx é' },
      { kind: 'deposit', seq: 3, timestamp: 30, userId: 'u', asset: 'USD', amount: 7n, adminId: 'admin-1' },
      { kind: 'deposit', seq: 4, timestamp: 40, userId: 'u', asset: 'USD', amount: 7n, requestId: 'r', adminId: 'admin-2' },
    ];
    const decoded = decodeBatch(batchOf(commands));
    expect(decoded).to.deep.equal(commands);
    decoded.forEach((command, i) => expect(Object.keys(command), `command ${i}`).to.deep.equal(Object.keys(commands[i]!)));
    // Kind code 3, userId, asset, amount, no request id: the bytes format 2 has always written.
    const plain = encodeCommand({ kind: 'deposit', seq: 1, timestamp: 2, userId: 'u', asset: 'USD', amount: 5n });
    expect(plain.toString('hex')).to.equal('03000000000000f03f0000000000000040010000007503000000555344000500000000000000' + '00');
    // A deposit naming its admin has a kind code of its own, not a longer deposit: a reader that
    // does not know it refuses the record instead of dropping the admin.
    expect(encodeCommand(commands[2]!)[0]).to.not.equal(plain[0]);
  });

  it('round-trips deposits with a reference (a kind of its own); admin deposits without one are written, and replay, as before', () => {
    const commands: Command[] = [
      { kind: 'deposit', seq: 1, timestamp: 10, userId: 'u', asset: 'USD', amount: 7n, adminId: 'admin-1', reference: 'wire 2026/1' },
      { kind: 'deposit', seq: 2, timestamp: 20, userId: 'u', asset: 'USD', amount: 1n << 64n, requestId: 'r', adminId: 'a', reference: 'tx é' },
      { kind: 'deposit', seq: 3, timestamp: 30, userId: 'u', asset: 'USD', amount: 7n, reference: 'no admin' },
    ];
    const decoded = decodeBatch(batchOf(commands));
    expect(decoded).to.deep.equal(commands);
    decoded.forEach((command, i) => expect(Object.keys(command), `command ${i}`).to.deep.equal(Object.keys(commands[i]!)));
    expect(commands.map((c) => encodeCommand(c)[0])).to.deep.equal([14, 14, 14]);

    // An admin deposit as the previous version journaled it: kind 7, userId, asset, amount 5, no request id, admin "a".
    const previous = Buffer.from('020100000007000000000000f03f0000000000000040010000007503000000555344000500000000000000000100000061ee', 'hex');
    const old = decodeBatch(previous);
    expect(old).to.deep.equal([{ kind: 'deposit', seq: 1, timestamp: 2, userId: 'u', asset: 'USD', amount: 5n, adminId: 'a' }]);
    expect(batchOf(old)).to.deep.equal(previous);
    const engine = new Engine({ markets: [{ symbol: 'BTC-USD', base: 'BTC', quote: 'USD' }], closedOrdersRetainedPerUser: 10 });
    for (const command of [...old, ...decodeBatch(batchOf([{ ...commands[0]!, seq: 2 }]))]) expect(engine.apply(command).ok).to.equal(true);
    expect(engine.ledger('u', { limit: 10 }).map((e) => [e.amount, e.adminId, e.reference])).to.deep.equal([
      [7n, 'admin-1', 'wire 2026/1'],
      [5n, 'a', undefined],
    ]);
  });

  it('round-trips stop orders (kinds of their own) and one-cancels-other pairs, an absent stop limit price staying absent', () => {
    const head = { orderId: 3, userId: 'u', market: 'BTC-USD', side: 'buy', selfTradePrevention: 'cancel_taker' } as const;
    const commands: Command[] = [
      { kind: 'placeLimit', seq: 1, timestamp: 10, ...head, price: 5n, quantity: 7n, timeInForce: 'IOC', postOnly: false, clientOrderId: 's', stopPrice: 4n },
      { kind: 'placeLimit', seq: 2, timestamp: 20, ...head, price: 5n, quantity: 7n, timeInForce: 'GTC', postOnly: false, stopPrice: 1n << 64n },
      { kind: 'placeMarket', seq: 3, timestamp: 30, ...head, quantity: 7n, stopPrice: 9n },
      { kind: 'placeOco', seq: 4, timestamp: 40, orderId: 4, stopOrderId: 2 ** 52 + 4, userId: 'u', market: 'BTC-USD', side: 'sell',
        selfTradePrevention: 'cancel_resting', quantity: 2n, price: 11n, stopPrice: 9n, stopLimitPrice: 8n },
      { kind: 'placeOco', seq: 5, timestamp: 50, orderId: 5, stopOrderId: 2 ** 52 + 5, userId: 'u', market: 'BTC-USD', side: 'buy',
        selfTradePrevention: 'cancel_both', quantity: 2n, price: 11n, stopPrice: 12n },
    ];
    const decoded = decodeBatch(batchOf(commands));
    expect(decoded).to.deep.equal(commands);
    decoded.forEach((command, i) => expect(Object.keys(command), `command ${i}`).to.deep.equal(Object.keys(commands[i]!)));
    // A stop order is its own kind: format 2 readers of plain placements see nothing new.
    expect([...batchOf([commands[2]!]).subarray(5, 6)]).to.deep.equal([12]);
  });

  it('round-trips pairs with a client order id (a kind of its own); a pair without one is written, and replays, as before', () => {
    const pair = { kind: 'placeOco', seq: 1, timestamp: 10, orderId: 4, stopOrderId: 5, userId: 'u', market: 'BTC-USD', side: 'sell',
      selfTradePrevention: 'cancel_resting', quantity: 2n, price: 11n, stopPrice: 9n } as const;
    const commands: Command[] = [{ ...pair, clientOrderId: 'oco-1' }, { ...pair, seq: 2, stopLimitPrice: 8n, clientOrderId: 'é' }];
    const decoded = decodeBatch(batchOf(commands));
    expect(decoded).to.deep.equal(commands);
    decoded.forEach((command, i) => expect(Object.keys(command), `command ${i}`).to.deep.equal(Object.keys(commands[i]!)));
    expect(commands.map((c) => encodeCommand(c)[0])).to.deep.equal([15, 15]);

    // A pair as the previous version journaled it: kind 13 and placeOco's fields, no client order id.
    const previous = Buffer.from(
      '02010000000d000000000000f03f00000000000024400000000000001040000000000000144001000000750700000042' +
        '54432d5553440100000200000000000000000b0000000000000000090000000000000000ee',
      'hex',
    );
    const old = decodeBatch(previous);
    expect(old).to.deep.equal([{ ...pair, seq: 1, timestamp: 10 }]);
    expect(batchOf(old)).to.deep.equal(previous);
  });

  it('round-trips configure commands (kind 16: each limit in the engine\'s LIMIT_NAMES order) and names a limit that is not an integer', () => {
    const limits = { closedOrdersRetainedPerUser: 5, fillsRetainedPerUser: 0, tradesRetainedPerMarket: 1000, maxStopsPerUserMarket: 7, maxOpenOrdersPerUserMarket: 10_000_000 };
    const command: Command = { kind: 'configure', seq: 3, timestamp: 30, limits };
    const encoded = encodeCommand(command);
    expect(encoded[0]).to.equal(16);
    expect(encoded.length).to.equal(1 + 8 + 8 + 5 * 8);
    const decoded = decodeBatch(batchOf([command]));
    expect(decoded).to.deep.equal([command]);
    expect(Object.keys((decoded[0] as typeof command).limits)).to.deep.equal([...LIMIT_NAMES]);
    const bad = batchOf([{ ...command, limits: { ...limits, maxStopsPerUserMarket: 0.5 } }]);
    expect(() => decodeBatch(bad)).to.throw(CommandDecodeError, 'maxStopsPerUserMarket');
  });

  it('reads the binary records of format 1, which had no amendments, mass cancels or optional fields of cancels and deposits', () => {
    // A cancel, a deposit and a market order with a client order id, as format 1 wrote them.
    const format1 = Buffer.from(
      '010300000002000000000000f03f0000000000000040010000007500000000000008400300000000000000400000000000000840010000007503000000555344' +
        '000400000000000000010000000000000840000000000000104000000000000008400100000075070000004254432d555344010100050000000000000001010000006dee',
      'hex',
    );
    expect(decodeBatch(format1)).to.deep.equal([
      { kind: 'cancel', seq: 1, timestamp: 2, userId: 'u', orderId: 3 },
      { kind: 'deposit', seq: 2, timestamp: 3, userId: 'u', asset: 'USD', amount: 4n },
      { kind: 'placeMarket', seq: 3, timestamp: 4, orderId: 3, userId: 'u', market: 'BTC-USD', side: 'sell', selfTradePrevention: 'cancel_taker',
        quantity: 5n, clientOrderId: 'm' },
    ]);
    const amend = Buffer.from(format1);
    amend[5] = 4;
    expect(() => decodeBatch(amend)).to.throw(CommandDecodeError, 'journal command field "kind" has code 4, expected below 4');
    expect(batchOf([]).subarray(0, 1)).to.deep.equal(Buffer.from([2]));
  });

  it('rejects an optional field whose flag is neither 0 nor 1, and a mass cancel of an unknown side, naming the field', () => {
    const cancelAll = batchOf([{ kind: 'cancelAll', seq: 1, timestamp: 2, userId: 'u' }]);
    // The batch header (5), kind, seq, timestamp (17), the user id (4 + 1), then market's flag and the side.
    const market = Buffer.from(cancelAll);
    market[27] = 2;
    expect(() => decodeBatch(market)).to.throw(CommandDecodeError, 'journal command field "market" has code 2, expected below 2');
    const side = Buffer.from(cancelAll);
    side[28] = 3;
    expect(() => decodeBatch(side)).to.throw(CommandDecodeError, 'journal command field "side" has code 3, expected below 3');
    const amend = batchOf([{ kind: 'amend', seq: 1, timestamp: 2, userId: 'u', orderId: 3 }]);
    // After the user id: the order id (8), then the flags of clientOrderId, price and quantity.
    for (const [at, field] of [[35, 'clientOrderId'], [36, 'price'], [37, 'quantity']] as const) {
      const damaged = Buffer.from(amend);
      damaged[at] = 7;
      expect(() => decodeBatch(damaged)).to.throw(CommandDecodeError, `journal command field "${field}" has code 7, expected below 2`);
    }
    expect(() => decodeBatch(amend.subarray(0, 37))).to.throw(CommandDecodeError, 'journal record ends inside field "quantity" (byte 37 of 37)');
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
    kind[5] = 17;
    expect(() => decodeBatch(kind)).to.throw(CommandDecodeError, 'journal command field "kind" has code 17, expected below 17');
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
