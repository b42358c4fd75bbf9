import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { expect } from 'chai';
import { eventually } from '@orderbook/test-support';
import { ADMIN_PASSWORD, HttpStack } from '../e2e/gateway/http-stack';

/**
 * One stranger floods what anyone can open through the HTTP gateway: connections, event streams and
 * sign-ups, each with a forged X-Forwarded-For that the gateway must not believe (it trusts no
 * proxy here). The flood is bounded by the stranger's own budget, and another client, from another
 * loopback address, is still served.
 */

const STRANGER = '127.0.0.1';
const NEIGHBOUR = '127.0.0.2';
const PER_PEER_CONNECTIONS = 50;
const CONNECTION_ATTEMPTS = 2000;
const STREAMS_PER_PEER = 4;
const STREAM_ATTEMPTS = 40;
const SIGNUPS_PER_PEER = 5;
const SIGNUP_ATTEMPTS = 100;

interface Reply {
  readonly status: number;
  readonly body: string;
}

/** One HTTP request from a given local address, on its own connection (closed after the answer, or left open for a stream). */
function send(stack: HttpStack, from: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply & { close(): void }> {
  const port = stack.gateway.port;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, localAddress: from, method, path, agent: false, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } }, (res) => {
      const chunks: Buffer[] = [];
      const reply = { status: res.statusCode ?? 0, close: () => res.destroy() };
      if (res.headers['content-type']?.startsWith('text/event-stream')) return resolve({ ...reply, body: '' });
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ ...reply, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function openSocket(port: number, from: string): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(socket));
  });
}

describe('gateway: a stranger floods connections, event streams and sign-ups', function () {
  this.timeout(180_000);
  let stack: HttpStack;
  before(async () => {
    stack = await HttpStack.start(
      'gateway-flood',
      {
        GATEWAY_MAX_CONNECTIONS_PER_PEER: String(PER_PEER_CONNECTIONS),
        GATEWAY_SSE_MAX_PER_PEER: String(STREAMS_PER_PEER),
        GATEWAY_RATE_BURST: '100000',
        // The admitted idle connections stay while the test counts them.
        GATEWAY_HEADERS_TIMEOUT_SECONDS: '30',
      },
      ADMIN_PASSWORD,
      // Auth believes the gateway (on loopback) about who each HTTP client is.
      { auth: { AUTH_TRUSTED_PROXIES: '127.0.0.1', AUTH_SIGNUP_MAX_PER_PEER: String(SIGNUPS_PER_PEER) } },
    );
  });
  after(() => stack.stop());

  it(`keeps ${PER_PEER_CONNECTIONS} of ${CONNECTION_ATTEMPTS} idle connections from one address open, closes the rest at once, and serves a neighbour`, async () => {
    // In batches: a burst past the listen backlog would leave connections the kernel dropped before the gateway saw them.
    const sockets: Socket[] = [];
    while (sockets.length < CONNECTION_ATTEMPTS) sockets.push(...(await Promise.all(Array.from({ length: 50 }, () => openSocket(stack.gateway.port, STRANGER)))));
    try {
      // Refused sockets are closed by the gateway straight away; the admitted ones stay until the headers timeout.
      const open = () => sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
      await eventually(() => (open() <= PER_PEER_CONNECTIONS ? true : undefined), `at most ${PER_PEER_CONNECTIONS} connections left open`, 30_000);
      expect(open()).to.equal(PER_PEER_CONNECTIONS);
      const served = await send(stack, NEIGHBOUR, 'GET', '/v1/markets');
      expect(served.status).to.equal(200);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });

  it(`admits ${STREAMS_PER_PEER} of ${STREAM_ATTEMPTS} event streams from one address whatever X-Forwarded-For it sends (429 for the rest), and a neighbour's`, async () => {
    const replies = await Promise.all(
      Array.from({ length: STREAM_ATTEMPTS }, (_, i) => send(stack, STRANGER, 'GET', '/v1/markets/BTC-USD/trades/events', { 'x-forwarded-for': `198.51.100.${i % 250}` })),
    );
    try {
      const statuses = replies.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).to.have.length(STREAMS_PER_PEER);
      expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).to.equal(true);
      const neighbour = await send(stack, NEIGHBOUR, 'GET', '/v1/markets/ETH-USD/trades/events');
      expect(neighbour.status).to.equal(200);
      neighbour.close();
    } finally {
      for (const reply of replies) reply.close();
    }
  });

  it(`lets auth count sign-ups per HTTP client: ${SIGNUPS_PER_PEER} of ${SIGNUP_ATTEMPTS} from the stranger, forged addresses or not, and the neighbour still signs up`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < SIGNUP_ATTEMPTS; i += 1) {
      const body = JSON.stringify({ username: `flood-${i}`, email: `flood-${i}@example.com`, password: 'flood-password-long' });
      statuses.push((await send(stack, STRANGER, 'POST', '/v1/auth/sign-up', { 'x-forwarded-for': `203.0.113.${i % 250}` }, body)).status);
    }
    expect(statuses.filter((s) => s === 200)).to.have.length(SIGNUPS_PER_PEER);
    expect(statuses.slice(SIGNUPS_PER_PEER).every((s) => s === 429)).to.equal(true);
    const body = JSON.stringify({ username: 'neighbour', email: 'neighbour@example.com', password: 'neighbour-password-long' });
    expect((await send(stack, NEIGHBOUR, 'POST', '/v1/auth/sign-up', {}, body)).status).to.equal(200);
  });
});
