import { expect } from 'chai';
import fc from 'fast-check';
import { formatAmount, formatPrice, formatQuantity, MAX_UNITS, parseAmount, parsePrice, parseQuantity } from '../src/index';

const value = (r: ReturnType<typeof parsePrice>): bigint => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const error = (r: ReturnType<typeof parsePrice>) => {
  if (r.ok) throw new Error(`accepted as ${r.value}`);
  return r.error;
};

describe('fixed-point parsing and formatting', () => {
  it('parses exact decimal strings into integer units', () => {
    expect(value(parsePrice('98.5'))).to.equal(98_500_000n);
    expect(value(parsePrice('0.000001'))).to.equal(1n);
    expect(value(parsePrice('100'))).to.equal(100_000_000n);
    expect(value(parseQuantity('0.00000001'))).to.equal(1n);
    expect(value(parseQuantity('1.5'))).to.equal(150_000_000n);
    expect(value(parseAmount('18446744073.70955161'))).to.equal(1_844_674_407_370_955_161n);
    expect(value(parseQuantity('007.10'))).to.equal(710_000_000n);
  });

  it('accepts exactly 2^64-1 units and nothing above', () => {
    expect(value(parseQuantity('184467440737.09551615'))).to.equal(MAX_UNITS);
    expect(error(parseQuantity('184467440737.09551616')).message).to.equal('quantity: exceeds the maximum 184467440737.09551615');
    expect(value(parsePrice('18446744073709.551615'))).to.equal(MAX_UNITS);
    expect(error(parsePrice('18446744073709.551616')).code).to.equal('INVALID_ARGUMENT');
  });

  it('names the field in every error', () => {
    const e = error(parsePrice('1.0000001', 'limit_price'));
    expect(e).to.deep.equal({ code: 'INVALID_ARGUMENT', field: 'limit_price', message: 'limit_price: at most 6 decimals' });
    expect(error(parseQuantity('1.000000001')).message).to.equal('quantity: at most 8 decimals');
    expect(error(parseAmount('0')).message).to.equal('amount: must be greater than zero');
  });

  const hostile = [
    '', ' ', '1 ', ' 1', '1\n', '+1', '-1', '1e3', '1E3', '.5', '5.', '.', '1..2', '1.2.3', '0x10', 'NaN', 'Infinity',
    '١٢', '１', '1_000', '1,5', '0', '0.0', '0.00000000', '00', '\u00001', 'abc', '1/2', '−1',
  ];
  for (const text of hostile) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      for (const parse of [parsePrice, parseQuantity, parseAmount]) expect(error(parse(text)).code).to.equal('INVALID_ARGUMENT');
    });
  }

  it('accepts texts up to 20 integer digits, a point and the decimals long, and says how long is too long', () => {
    // 29 characters for a quantity (8 decimals), 27 for a price (6): leading zeros count.
    expect(value(parseQuantity(`${'0'.repeat(19)}1.${'0'.repeat(8)}`))).to.equal(100_000_000n);
    expect(error(parseQuantity(`${'0'.repeat(20)}1.${'0'.repeat(8)}`))).to.deep.equal({
      code: 'INVALID_ARGUMENT', field: 'quantity', message: 'quantity: too long: at most 29 characters',
    });
    expect(value(parsePrice(`${'0'.repeat(19)}1.${'0'.repeat(6)}`))).to.equal(1_000_000n);
    expect(error(parsePrice(`${'0'.repeat(20)}1.${'0'.repeat(6)}`)).message).to.equal('price: too long: at most 27 characters');
  });

  it('says what a decimal looks like when given an empty text or no text at all', () => {
    for (const text of ['', 5, undefined, null]) {
      expect(error(parseAmount(text as never)), String(text)).to.deep.equal({
        code: 'INVALID_ARGUMENT', field: 'amount', message: 'amount: must be a decimal number, e.g. "1.5"',
      });
    }
    expect(error(parseAmount('1e3')).message).to.equal(`amount: must be a plain decimal number (digits and at most one inner '.'), got "1e3"`);
  });

  it('rejects a 10,000-digit string by its length, before any BigInt is built', () => {
    const huge = '9'.repeat(10_000);
    const original = globalThis.BigInt;
    let built = 0;
    globalThis.BigInt = ((v: never) => {
      built++;
      return original(v);
    }) as unknown as BigIntConstructor;
    try {
      expect(error(parseQuantity(huge)).message).to.match(/^quantity: too long/);
      expect(error(parsePrice(`1.${'0'.repeat(10_000)}`)).message).to.match(/^price: too long/);
    } finally {
      globalThis.BigInt = original;
    }
    expect(built).to.equal(0);
  });

  it('formats canonically: no trailing zeros, no trailing dot', () => {
    expect(formatPrice(98_500_000n)).to.equal('98.5');
    expect(formatPrice(100_000_000n)).to.equal('100');
    expect(formatPrice(1n)).to.equal('0.000001');
    expect(formatQuantity(1n)).to.equal('0.00000001');
    expect(formatQuantity(0n)).to.equal('0');
    expect(formatAmount(MAX_UNITS)).to.equal('184467440737.09551615');
  });

  it('round-trips every value: format then parse gives the value back', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX_UNITS }), (units) => {
        expect(value(parsePrice(formatPrice(units)))).to.equal(units);
        expect(value(parseQuantity(formatQuantity(units)))).to.equal(units);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips every canonical text: parse then format gives the text back', () => {
    const canonical = fc
      .tuple(fc.bigInt({ min: 0n, max: 10n ** 11n }), fc.integer({ min: 0, max: 99_999_999 }))
      .map(([whole, frac]) => (frac === 0 ? `${whole}` : `${whole}.${String(frac).padStart(8, '0').replace(/0+$/, '')}`))
      .filter((t) => t !== '0');
    fc.assert(
      fc.property(canonical, (text) => {
        expect(formatQuantity(value(parseQuantity(text)))).to.equal(text);
      }),
      { numRuns: 500 },
    );
  });
});
