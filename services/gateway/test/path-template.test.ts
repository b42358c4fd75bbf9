import { expect } from 'chai';
import { PathTemplate } from '../src/path-template';

describe('gateway path templates', () => {
  it('matches literal segments and decodes variables', () => {
    const template = PathTemplate.parse('/v1/markets/{market}/book');
    expect(Object.fromEntries(template.match('/v1/markets/BTC-USD/book') ?? [])).to.deep.equal({ market: 'BTC-USD' });
    expect(Object.fromEntries(template.match('/v1/markets/a%2Fb/book') ?? [])).to.deep.equal({ market: 'a/b' });
    expect(template.variables).to.deep.equal(['market']);
    expect(template.specificity).to.equal(3);
  });

  it('refuses other paths, empty variables and bad escapes', () => {
    const template = PathTemplate.parse('/v1/orders/{order_id}');
    for (const path of ['/v1/orders', '/v1/orders/', '/v1/orders/1/x', '/v2/orders/1', 'v1/orders/1', '/v1/orders/%E0%A4%A']) {
      expect(template.match(path), path).to.equal(undefined);
    }
  });

  it('rejects templates it does not support (wildcards, verbs)', () => {
    expect(() => PathTemplate.parse('/v1/{name=things/*}')).to.throw(/only literal segments/);
    expect(() => PathTemplate.parse('v1/orders')).to.throw(/must start with/);
  });
});
