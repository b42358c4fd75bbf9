import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { fromBinary, toJson, type JsonValue } from '@bufbuild/protobuf';
import { status as Code } from '@grpc/grpc-js';
import { descriptorSetPath } from '@orderbook/proto';
import { ClientAddresses, createLogger, packageDir, serveMetrics, type Logger } from '@orderbook/server-kit';
import type { GatewayConfig } from './config';
import { ConnectionLimits, RefusalLog } from './connection-limits';
import { Contract, type Rpc } from './contract';
import { Cors } from './cors';
import { EventFeed, FeedDirectory, type FeedCodec, type FeedEvent } from './event-feeds';
import { GatewayMetrics } from './gateway-metrics';
import { gatewayError, SECURITY_HEADERS, sendError, sendJson } from './http-answers';
import { parseJsonBody } from './json-body';
import { RateLimiter, Slots } from './limits';
import { BadRequestError, encodeRequest, requestJson } from './request-message';
import { RpcStatuses } from './rpc-status';
import { StaticFiles } from './static-files';
import { forwardedMetadata, Upstreams, type CallFailure } from './upstreams';

export interface RunningGateway {
  readonly address: string;
  readonly port: number;
  /** The bound port of GET /metrics, when GATEWAY_METRICS_PORT is set. */
  readonly metricsPort?: number;
  stop(): Promise<void>;
}

/** A body past the limit: answered 413 without reading the rest. */
class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) return Promise.reject(new BodyTooLargeError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLargeError());
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Whether every % of path starts a valid UTF-8 escape (routing decodes the variables). */
function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** Every SSE connection sends a comment this often, so that proxies and clients see it alive. */
const SSE_HEARTBEAT_MS = 15_000;
/** An event-stream client this far behind (bytes queued in the gateway) is disconnected; it resumes with Last-Event-ID. */
const SSE_MAX_QUEUED_BYTES = 1 << 20;

/**
 * The HTTP/JSON gateway: the google.api.http routes and `POST /<package>.<Service>/<Method>` for
 * every RPC, forwarded to auth and matching over gRPC with the caller's Authorization header;
 * server streams as Server-Sent Events; the OpenAPI document and the web console.
 */
export class Gateway {
  private readonly contract = Contract.load(descriptorSetPath);
  private readonly statuses = new RpcStatuses(this.contract.registry);
  private readonly upstreams: Upstreams;
  private readonly rate: RateLimiter;
  private readonly slots: Slots;
  readonly metrics: GatewayMetrics;
  private readonly feeds = new FeedDirectory();
  private readonly cors: Cors;
  private readonly clients: ClientAddresses;
  private readonly files = new StaticFiles(join(packageDir(__dirname), 'public'));
  private readonly openapi = readFileSync(join(packageDir(__dirname), 'openapi.json'));
  private readonly connections = new Set<ServerResponse>();
  /** Ids of events whose messages carry no sequence number of their own. */
  private eventCount = 0;

  constructor(
    private readonly config: GatewayConfig,
    private readonly logger: Logger,
  ) {
    this.upstreams = new Upstreams(config.upstreams, config.callTimeoutMs, logger);
    this.rate = new RateLimiter(config.ratePerSecond, config.rateBurst);
    this.slots = new Slots(config.sseMaxPerPeer, config.sseMaxTotal);
    this.metrics = new GatewayMetrics(() => this.slots.open);
    this.cors = new Cors(config.corsOrigins);
    this.clients = new ClientAddresses(config.trustedProxies);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.logger.debug({ method: req.method, url: req.url }, 'request');
    res.once('finish', () => this.metrics.answered(res.statusCode));
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const url = new URL(req.url ?? '/', 'http://gateway');
    const verb = (req.method ?? 'GET').toLowerCase();
    const origin = this.cors.check(req, res);
    if (origin === 'refused') return sendError(res, gatewayError(403, Code.PERMISSION_DENIED, `origin ${req.headers.origin}: not allowed (GATEWAY_CORS_ORIGINS)`, 'ORIGIN_NOT_ALLOWED'));
    if (origin === 'preflight') return;

    const peer = this.peerOf(req);
    const wait = this.rate.take(peer);
    if (wait > 0) return sendError(res, gatewayError(429, Code.RESOURCE_EXHAUSTED, 'too many requests from this address: retry later', 'RATE_LIMITED', wait));

    if (verb === 'get' && url.pathname === '/healthz') return sendJson(res, 200, { status: 'SERVING' });
    if (verb === 'get' && url.pathname === '/readyz') return this.readiness(res);
    if (verb === 'get' && url.pathname === '/openapi.json') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' });
      return void res.end(this.openapi);
    }
    if (!decodable(url.pathname)) return sendError(res, this.badRequest(new BadRequestError('path', 'bad percent-encoding (each % must start a UTF-8 escape such as %2F)')));
    const plain = verb === 'post' ? this.contract.rpcAt(url.pathname) : undefined;
    const routed = plain === undefined ? this.contract.route(verb, url.pathname) : undefined;
    if (plain === undefined && routed !== undefined && 'allowed' in routed) {
      if (routed.allowed.length > 0) {
        return sendError(res, gatewayError(405, Code.UNIMPLEMENTED, `${req.method} ${url.pathname}: method not allowed`, 'METHOD_NOT_ALLOWED'), { allow: routed.allowed.map((v) => v.toUpperCase()).join(', ') });
      }
      if (verb === 'get' && this.files.serve(url.pathname, res)) return;
      return sendError(res, gatewayError(404, Code.NOT_FOUND, `${req.method} ${url.pathname}: no such route`, 'ROUTE_NOT_FOUND'));
    }
    const binding = routed !== undefined && 'binding' in routed ? routed.binding : undefined;
    const rpc = plain ?? binding!.rpc;
    const variables = routed !== undefined && 'binding' in routed ? routed.variables : new Map<string, string>();

    let request: Uint8Array;
    try {
      const body = await this.jsonBody(req);
      request = encodeRequest(rpc.method.input, requestJson(binding, { body, variables, query: url.searchParams }, rpc.method.input));
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        res.setHeader('connection', 'close');
        return sendError(res, gatewayError(413, Code.INVALID_ARGUMENT, `body: larger than ${this.config.maxBodyBytes} bytes`, 'BODY_TOO_LARGE'));
      }
      if (err instanceof BadRequestError) return sendError(res, this.badRequest(err));
      throw err;
    }
    const authorization = req.headers.authorization;
    switch (rpc.method.methodKind) {
      case 'unary':
        return this.unary(rpc, request, authorization, peer, res);
      case 'server_streaming':
        return this.eventStream(rpc, request, req, res, peer);
      default:
        return sendError(res, gatewayError(501, Code.UNIMPLEMENTED, `${rpc.grpcPath} streams requests: call it over gRPC`, 'CLIENT_STREAMING_UNSUPPORTED'));
    }
  }

  private async unary(rpc: Rpc, request: Uint8Array, authorization: string | undefined, peer: string, res: ServerResponse): Promise<void> {
    try {
      const response = await this.upstreams.unary(rpc, request, forwardedMetadata(authorization, peer));
      this.metrics.called(rpc.upstream, 'OK');
      sendJson(res, 200, this.responseJson(rpc, response));
    } catch (err) {
      const failure = err as CallFailure;
      if (typeof failure.code !== 'number') throw err;
      this.metrics.called(rpc.upstream, Code[failure.code] ?? String(failure.code));
      sendError(res, this.statuses.answer(failure.code, failure.message, failure.detailsBin));
    }
  }

  private async eventStream(rpc: Rpc, request: Uint8Array, req: IncomingMessage, res: ServerResponse, peer: string): Promise<void> {
    const authorization = req.headers.authorization;
    const key = FeedDirectory.keyOf(rpc.grpcPath, request, authorization);
    const lastEventId = typeof req.headers['last-event-id'] === 'string' ? req.headers['last-event-id'] : undefined;
    let feed = lastEventId === undefined ? undefined : this.feeds.resumable(key, lastEventId);
    const resumed = feed !== undefined;
    if (feed === undefined) {
      const slot = this.slots.admit(peer);
      if (!slot.admitted) {
        return sendError(
          res,
          slot.scope === 'peer'
            ? gatewayError(429, Code.RESOURCE_EXHAUSTED, `too many event streams from this address (${this.config.sseMaxPerPeer}, GATEWAY_SSE_MAX_PER_PEER)`, 'TOO_MANY_STREAMS_FROM_PEER', 1)
            : gatewayError(503, Code.UNAVAILABLE, `too many event streams (${this.config.sseMaxTotal}, GATEWAY_SSE_MAX_TOTAL)`, 'TOO_MANY_STREAMS', 1),
        );
      }
      const call = this.upstreams.serverStream(rpc, request, forwardedMetadata(authorization, peer));
      feed = new EventFeed(key, call, this.feedCodec(rpc), this.config.sseResumeBuffer, (closed) => {
        this.feeds.remove(closed);
        slot.leave();
      });
      this.feeds.add(feed);
      const pending = feed;
      // A client that leaves before the service accepts gives its place back at once.
      const leftEarly = (): void => pending.close();
      res.once('close', leftEarly);
      const refused = await feed.acceptedWithin(this.config.callTimeoutMs);
      res.off('close', leftEarly);
      if (refused !== undefined) {
        if (!res.destroyed) sendError(res, this.statuses.answer(refused.code, refused.message, refused.detailsBin));
        return;
      }
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    this.connections.add(res);
    const write = (event: FeedEvent): void => {
      res.write(`${event.id === undefined ? '' : `id: ${event.id}\n`}event: ${event.event}\ndata: ${event.data}\n\n`);
      if (event.event === 'error' || event.event === 'end') res.end();
      else if (res.writableLength > SSE_MAX_QUEUED_BYTES) res.destroy();
    };
    if (lastEventId !== undefined && !resumed) write({ event: 'resync', data: JSON.stringify({ lastEventId }) });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    const current = feed;
    res.once('close', () => {
      clearInterval(heartbeat);
      this.connections.delete(res);
      current.detach(this.config.sseResumeMs);
    });
    current.attach(write, lastEventId);
  }

  /** 200 when both services pass their health check, otherwise 503 naming each one that does not and why. */
  private async readiness(res: ServerResponse): Promise<void> {
    const [auth, matching] = await Promise.all([this.upstreams.health('auth'), this.upstreams.health('matching')]);
    const ready = auth.serving && matching.serving;
    const body = { status: ready ? 'SERVING' : 'NOT_SERVING', auth: auth.serving ? 'SERVING' : auth.cause, matching: matching.serving ? 'SERVING' : matching.cause };
    sendJson(res, ready ? 200 : 503, body, ready ? {} : { 'retry-after': '1' });
  }

  private feedCodec(rpc: Rpc): FeedCodec {
    const output = rpc.method.output;
    // A message that carries its own sequence number (the book's) is identified by it; others by the gateway's count.
    const sequenceField = output.fields.find((f) => f.name === 'sequence');
    return {
      message: (bytes) => {
        const message = fromBinary(output, bytes);
        const json = toJson(output, message, { registry: this.contract.registry });
        const id = sequenceField === undefined ? String(++this.eventCount) : String((message as unknown as Record<string, unknown>)[sequenceField.localName]);
        return { id, data: JSON.stringify(json) };
      },
      failure: (failure) => JSON.stringify(this.statuses.answer(failure.code, failure.message, failure.detailsBin).body),
    };
  }

  private responseJson(rpc: Rpc, bytes: Uint8Array): JsonValue {
    return toJson(rpc.method.output, fromBinary(rpc.method.output, bytes), { registry: this.contract.registry });
  }

  private async jsonBody(req: IncomingMessage): Promise<JsonValue | undefined> {
    const bytes = await readBody(req, this.config.maxBodyBytes);
    return bytes.length === 0 ? undefined : parseJsonBody(bytes);
  }

  private badRequest(err: BadRequestError) {
    const answer = gatewayError(400, Code.INVALID_ARGUMENT, err.message, 'INVALID_REQUEST');
    const details = answer.body['details'] as JsonValue[];
    details.push({ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: err.field, description: err.problem }] });
    return answer;
  }

  /** The client's IP address: the TCP peer, or the last X-Forwarded-For entry when the peer is a trusted proxy (GATEWAY_TRUSTED_PROXIES). */
  private peerOf(req: IncomingMessage): string {
    const forwarded = req.headers['x-forwarded-for'];
    return this.clients.resolve(req.socket.remoteAddress ?? 'unknown', typeof forwarded === 'string' ? forwarded : undefined);
  }

  /** Ends every event stream and the upstream channels. */
  shutdown(): void {
    for (const res of this.connections) res.end();
    this.feeds.closeAll();
    this.upstreams.close();
  }
}

export async function startGateway(config: GatewayConfig, logger: Logger = createLogger('gateway', config.logLevel)): Promise<RunningGateway> {
  const gateway = new Gateway(config, logger);
  const server: Server = createServer({
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.idleTimeoutMs,
    // How often the timeouts above are checked (Node's default, 30 s, would let a slowloris connection stay four times as long).
    connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
  }, (req, res) => {
    gateway.handle(req, res).catch((err: unknown) => {
      logger.error({ err, url: req.url }, 'request failed');
      if (!res.headersSent) sendError(res, gatewayError(500, Code.INTERNAL, 'internal error', 'INTERNAL'));
      else res.destroy();
    });
  });
  const connections = new ConnectionLimits(config.maxConnections, config.maxConnectionsPerPeer, (address) => config.trustedProxies.has(address));
  const refusals = new RefusalLog(logger);
  // Before the HTTP server's own listener: a connection past the limits is closed before it is read.
  server.prependListener('connection', (socket: Socket) => {
    const refusal = connections.admit(socket);
    if (refusal === undefined) return;
    gateway.metrics.refused(refusal);
    refusals.note(refusal, socket.remoteAddress);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const metrics = config.metricsPort === undefined ? undefined : await serveMetrics(gateway.metrics.registry, config.host, config.metricsPort);
  const address = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ address, ...(metrics === undefined ? {} : { metricsPort: metrics.port }) }, 'gateway listening');
  return {
    address,
    port,
    ...(metrics === undefined ? {} : { metricsPort: metrics.port }),
    stop: async () => {
      gateway.shutdown();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await metrics?.close();
    },
  };
}
