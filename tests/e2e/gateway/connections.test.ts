import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { eventually } from '@orderbook/test-support';
import { HttpStack } from './http-stack';

/** A raw TCP connection to the gateway: what it received, and whether it was closed. */
class RawConnection {
  received = '';
  readonly closed: Promise<void>;
  private readonly socket: Socket;

  constructor(address: string) {
    const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
    this.socket = connect(port, host);
    this.socket.on('data', (chunk: Buffer) => (this.received += chunk.toString('latin1')));
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  connected(): Promise<void> {
    return new Promise((resolve) => (this.socket.connecting ? this.socket.once('connect', () => resolve()) : resolve()));
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('gateway: connections from strangers (idle, slowloris, too many)', () => {
  let stack: HttpStack;
  before(async () => {
    stack = await HttpStack.start('gateway-connections', { GATEWAY_MAX_CONNECTIONS_PER_PEER: '3', GATEWAY_HEADERS_TIMEOUT_SECONDS: '1', GATEWAY_REQUEST_TIMEOUT_SECONDS: '2', GATEWAY_METRICS_PORT: '0' });
  });
  after(() => stack.stop());

  it('closes a connection that sends nothing, and one that sends its headers byte by byte, with 408 after GATEWAY_HEADERS_TIMEOUT_SECONDS', async () => {
    const idle = new RawConnection(stack.gateway.address);
    const slow = new RawConnection(stack.gateway.address);
    await slow.connected();
    const request = `GET /v1/markets HTTP/1.1\r\nHost: gateway\r\nX-Padding: ${'a'.repeat(200)}`;
    let sent = 0;
    const dribble = setInterval(() => slow.write(request[sent++ % request.length]!), 50);
    try {
      await Promise.all([idle.closed, slow.closed]);
    } finally {
      clearInterval(dribble);
    }
    expect(idle.received).to.match(/^HTTP\/1\.1 408 /);
    expect(slow.received).to.match(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection that sends its body byte by byte with 408 after GATEWAY_REQUEST_TIMEOUT_SECONDS', async () => {
    const slow = new RawConnection(stack.gateway.address);
    slow.write('POST /v1/auth/sign-up HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
    const dribble = setInterval(() => slow.write(' '), 50);
    try {
      await slow.closed;
    } finally {
      clearInterval(dribble);
    }
    expect(slow.received).to.match(/^HTTP\/1\.1 408 /);
  });

  it(`closes a client's connection past GATEWAY_MAX_CONNECTIONS_PER_PEER at once, unanswered; one closed gives its place back`, async () => {
    const held = [new RawConnection(stack.gateway.address), new RawConnection(stack.gateway.address), new RawConnection(stack.gateway.address)];
    await Promise.all(held.map((c) => c.connected()));
    const extra = new RawConnection(stack.gateway.address);
    extra.write('GET /v1/markets HTTP/1.1\r\nHost: gateway\r\n\r\n');
    await extra.closed;
    expect(extra.received).to.equal('');
    const metrics = await (await fetch(`http://127.0.0.1:${stack.gateway.metricsPort}/metrics`)).text();
    expect(metrics).to.match(/^gateway_connections_refused_total\{limit="GATEWAY_MAX_CONNECTIONS_PER_PEER"\} [1-9]/m);
    held[0]!.destroy();
    // The gateway sees the close a moment later: until then a new connection may still be refused.
    const served = await eventually(async () => {
      const connection = new RawConnection(stack.gateway.address);
      connection.write('GET /healthz HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n');
      await connection.closed;
      return connection.received === '' ? undefined : connection;
    }, 'a place given back');
    expect(served.received).to.match(/^HTTP\/1\.1 200 /);
    for (const connection of held) connection.destroy();
  });
});
