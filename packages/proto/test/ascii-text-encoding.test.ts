import { expect } from 'chai';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { matching, useAsciiTextEncoding } from '../src/index';

const standard = new TextEncoder();

/** An order whose string fields are `text`, encoded by the generated code with the process's text encoding or with `writer`. */
function encodedOrder(text: string, writer?: BinaryWriter): Uint8Array {
  const order = matching.Order.fromPartial({
    orderId: 42n,
    clientOrderId: text,
    market: text,
    side: matching.Side.SIDE_BUY,
    type: matching.OrderType.ORDER_TYPE_LIMIT,
    price: text,
    quantity: '0.042',
    filledQuantity: '0',
    remainingQuantity: text,
    status: matching.OrderStatus.ORDER_STATUS_OPEN,
    timeInForce: matching.TimeInForce.TIME_IN_FORCE_GTC,
    postOnly: false,
    selfTradePrevention: matching.SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
    createdAtUnixMs: 1n,
    updatedAtUnixMs: 2n,
    lockedAmount: '4.1895',
  });
  return matching.PlaceLimitOrderResponse.encode({ order, trades: [] }, writer).finish();
}

describe('the ASCII fast path of protobuf text encoding', () => {
  const texts = ['', 'BTC-USD', '99.75', 'd3b07384-d9a0-4c3b-8f1e-6a2f1c0e9b7a', '~ !"\\\x7f', 'café', '€1', '😀', 'a'.repeat(128), 'a'.repeat(129), `${'a'.repeat(127)}é`, '\u0000'];
  before(() => useAsciiTextEncoding());

  it('encodes every string to the bytes TextEncoder gives, ASCII or not, short or long', () => {
    for (const text of texts) {
      const written = new BinaryWriter().string(text).finish();
      const expected = new BinaryWriter(() => standard.encode(text)).string(text).finish();
      expect([...written], JSON.stringify(text)).to.deep.equal([...expected]);
    }
  });

  it('leaves whole messages byte for byte as the generated code writes them with TextEncoder, and decodable', () => {
    for (const text of texts) {
      const after = encodedOrder(text);
      const withTextEncoder = encodedOrder(text, new BinaryWriter((t) => standard.encode(t)));
      expect(Buffer.from(after).equals(Buffer.from(withTextEncoder)), JSON.stringify(text)).to.equal(true);
      expect(matching.PlaceLimitOrderResponse.decode(after).order?.price).to.equal(text);
    }
  });
});
