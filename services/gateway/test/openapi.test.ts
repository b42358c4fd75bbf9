import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { descriptorSetPath } from '@orderbook/proto';
import { Contract } from '../src/contract';
import { OPENAPI_PATH, openApiText } from '../src/openapi-main';

describe('gateway OpenAPI document', () => {
  const document = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'));

  it('is the one generated from the current proto (run `make proto` if this fails)', () => {
    expect(readFileSync(OPENAPI_PATH, 'utf8')).to.equal(openApiText());
  });

  it('has every google.api.http route and the plain POST form of every unary and server-streaming RPC', () => {
    const contract = Contract.load(descriptorSetPath);
    for (const binding of contract.bindings) expect(document.paths[binding.path.toString()], binding.path.toString()).to.have.property(binding.verb);
    for (const rpc of contract.rpcs.filter((r) => r.method.methodKind !== 'bidi_streaming')) expect(document.paths[rpc.grpcPath], rpc.grpcPath).to.have.property('post');
  });

  it('describes requests, answers and errors with schemas in the proto3 JSON mapping', () => {
    const book = document.paths['/v1/markets/{market}/book'].get;
    expect(book.parameters).to.deep.include({ name: 'market', in: 'path', required: true, schema: { type: 'string' } });
    expect(book.parameters).to.deep.include({ name: 'depth', in: 'query', required: false, schema: { type: 'integer', format: 'int64', minimum: 0 } });
    expect(book.responses.default.content['application/json'].schema).to.deep.equal({ $ref: '#/components/schemas/google.rpc.Status' });
    const order = document.components.schemas['orderbook.matching.v1.Order'].properties;
    expect(order.orderId).to.include({ type: 'string', format: 'uint64' });
    expect(order.side.enum).to.deep.equal(['SIDE_UNSPECIFIED', 'SIDE_BUY', 'SIDE_SELL']);
    expect(document.paths['/v1/markets/{market}/book/events'].get.responses['200'].content).to.have.property('text/event-stream');
  });
});
