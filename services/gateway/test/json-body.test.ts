import { expect } from 'chai';
import { parseJsonBody } from '../src/json-body';
import { BadRequestError } from '../src/request-message';

function refusal(bytes: Uint8Array | string): BadRequestError {
  try {
    parseJsonBody(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  } catch (err) {
    expect(err).to.be.instanceOf(BadRequestError);
    return err as BadRequestError;
  }
  return expect.fail('accepted');
}

describe('gateway request bodies', () => {
  it('parses JSON, however deeply nested, and keys that repeat only in different objects', () => {
    expect(parseJsonBody(Buffer.from('{"a":[{"b":1},{"b":2}],"c":{"b":"\\"b\\":3"}}'))).to.deep.equal({ a: [{ b: 1 }, { b: 2 }], c: { b: '"b":3' } });
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    expect(() => parseJsonBody(Buffer.from(deep))).to.not.throw();
  });

  it('refuses bytes that are not UTF-8 rather than reading them as U+FFFD', () => {
    const body = Buffer.concat([Buffer.from('{"username":"mal'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    expect(refusal(body)).to.include({ field: 'body', problem: 'not UTF-8' });
  });

  it('refuses what is not JSON, naming the body', () => {
    expect(refusal('{"market":').field).to.equal('body');
    expect(refusal('{"market":').problem).to.match(/^not JSON: /);
  });

  it('refuses a key given twice in one object, naming it with its path, however it is escaped', () => {
    expect(refusal('{"side":"SIDE_SELL","side":"SIDE_BUY"}')).to.include({ field: 'side', problem: 'given more than once' });
    expect(refusal('{"side":"SIDE_SELL","\\u0073ide":"SIDE_BUY"}').field).to.equal('side');
    expect(refusal('{"order":{"price":"1","quantity":"2","price":"3"}}').field).to.equal('order.price');
    expect(refusal('{"legs":[{"a":1},{"a":1,"a":2}]}').field).to.equal('legs.a');
  });
});
