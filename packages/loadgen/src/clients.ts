import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';
import type { Operation } from './workload';

/** What a worker learns from one order-entry call. */
export interface Outcome {
  readonly code: grpc.status;
  /** Set when a limit order rests on the book (open or partially filled), so that it can be cancelled later. */
  readonly restingOrderId?: bigint;
  /** The status details of a non-OK answer, kept for the error samples of the report. */
  readonly details?: string;
}

/** Who sends: the user whose token authenticates the request, and the connection it goes over. */
export interface Slot {
  readonly user: number;
  readonly channel: number;
}

/** A way of sending orders: unary RPCs or OrderSession streams. */
export interface OrderEntry {
  readonly name: string;
  send(slot: Slot, operation: Operation): Promise<Outcome>;
  /** Closes every channel; calls still in flight end with CANCELLED. */
  close(): void;
}

export interface EntryOptions {
  readonly address: string;
  /** Number of HTTP/2 connections the workers are spread over. */
  readonly channels: number;
  /** One access token per user. */
  readonly tokens: readonly string[];
  /** Deadline of each unary call. */
  readonly deadlineMs: number;
  /** CA certificate (PEM file) of a TLS server; plaintext when absent. */
  readonly tlsCaFile?: string;
}

const OPEN_STATUSES = new Set([matching.OrderStatus.ORDER_STATUS_OPEN, matching.OrderStatus.ORDER_STATUS_PARTIALLY_FILLED]);

/**
 * grpc-js shares one connection between all clients of the same target unless each channel has
 * its own subchannel pool: without this option, "N channels" would silently be one connection.
 */
const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };

function openChannels(options: EntryOptions): matching.MatchingServiceClient[] {
  return Array.from(
    { length: options.channels },
    () =>
      new matching.MatchingServiceClient(
        options.address,
        options.tlsCaFile === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(readFileSync(options.tlsCaFile)),
        CHANNEL_OPTIONS,
      ),
  );
}

export function bearer(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

function pick<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length];
  if (item === undefined) throw new Error('loadgen: no channel or token configured');
  return item;
}

const ANSWERED: Outcome = { code: grpc.status.OK };

function failed(err: grpc.ServiceError): Outcome {
  return { code: err.code, details: err.details };
}

function placed(order: matching.Order | undefined): Outcome {
  const orderId = order !== undefined && OPEN_STATUSES.has(order.status) ? order.orderId : undefined;
  return orderId === undefined ? ANSWERED : { code: grpc.status.OK, restingOrderId: orderId };
}

/** One unary RPC per order, with a deadline, over `channels` connections. */
export function unaryEntry(options: EntryOptions): OrderEntry {
  const clients = openChannels(options);
  const metadata = options.tokens.map(bearer);
  return {
    name: 'unary',
    send(slot, operation) {
      const client = pick(clients, slot.channel);
      const callMetadata = pick(metadata, slot.user);
      const callOptions = { deadline: Date.now() + options.deadlineMs };
      return new Promise<Outcome>((resolve) => {
        switch (operation.kind) {
          case 'resting':
          case 'crossing':
            client.placeLimitOrder(operation.request, callMetadata, callOptions, (err, response) =>
              resolve(err === null ? placed(response.order) : failed(err)),
            );
            return;
          case 'market':
            client.placeMarketOrder(operation.request, callMetadata, callOptions, (err) => resolve(err === null ? ANSWERED : failed(err)));
            return;
          case 'cancel':
            client.cancelOrder(operation.request, callMetadata, callOptions, (err) => resolve(err === null ? ANSWERED : failed(err)));
        }
      });
    },
    close() {
      for (const client of clients) client.close();
    },
  };
}

type SessionResult = 'placeLimitOrder' | 'placeMarketOrder' | 'cancelOrder';

interface PendingRequest {
  readonly resolve: (outcome: Outcome) => void;
  /** The result field a correct answer sets: an answer of another kind is counted as an error. */
  readonly expects: SessionResult;
}

/** One OrderSession stream of one user: requests carry an id, and each response settles the request with that id. */
class Session {
  private readonly pending = new Map<number, PendingRequest>();
  private nextId = 1;
  private ended: Outcome | undefined;

  constructor(private readonly stream: grpc.ClientDuplexStream<matching.OrderSessionRequest, matching.OrderSessionResponse>) {
    stream.on('data', (response: matching.OrderSessionResponse) => this.answer(response));
    stream.on('error', (err: grpc.ServiceError) => this.fail({ code: err.code, details: err.details }));
    stream.on('end', () => this.fail({ code: grpc.status.UNAVAILABLE, details: 'OrderSession stream ended by the server' }));
  }

  send(operation: Operation): Promise<Outcome> {
    // A broken stream answers at once: the error is counted, and the phase's time bound ends the run.
    if (this.ended !== undefined) return Promise.resolve(this.ended);
    const id = this.nextId++;
    const requestId = BigInt(id);
    const [request, expects]: [matching.OrderSessionRequest, SessionResult] =
      operation.kind === 'market'
        ? [{ requestId, placeMarketOrder: operation.request }, 'placeMarketOrder']
        : operation.kind === 'cancel'
          ? [{ requestId, cancelOrder: operation.request }, 'cancelOrder']
          : [{ requestId, placeLimitOrder: operation.request }, 'placeLimitOrder'];
    return new Promise<Outcome>((resolve) => {
      this.pending.set(id, { resolve, expects });
      this.stream.write(request);
    });
  }

  close(): void {
    this.fail({ code: grpc.status.CANCELLED, details: 'closed by the load generator' });
    this.stream.cancel();
  }

  private answer(response: matching.OrderSessionResponse): void {
    const id = Number(response.requestId);
    const request = this.pending.get(id);
    if (request === undefined) return;
    this.pending.delete(id);
    if (response.error !== undefined) request.resolve({ code: response.error.code as grpc.status, details: response.error.message });
    else if (response[request.expects] === undefined) request.resolve({ code: grpc.status.INTERNAL, details: `request ${id} was answered with another kind of result` });
    else request.resolve(placed(response.placeLimitOrder?.order));
  }

  private fail(outcome: Outcome): void {
    this.ended ??= outcome;
    for (const request of this.pending.values()) request.resolve(outcome);
    this.pending.clear();
  }
}

/**
 * One OrderSession stream per user (a stream is authenticated once, for one user), opened at the
 * user's first order and carrying the requests of every worker acting as that user; user u's
 * stream uses channel u % channels.
 */
export function sessionEntry(options: EntryOptions): OrderEntry {
  const clients = openChannels(options);
  const sessions = new Map<number, Session>();
  return {
    name: 'session',
    send(slot, operation) {
      let session = sessions.get(slot.user);
      if (session === undefined) {
        session = new Session(pick(clients, slot.user).orderSession(bearer(pick(options.tokens, slot.user))));
        sessions.set(slot.user, session);
      }
      return session.send(operation);
    },
    close() {
      for (const session of sessions.values()) session.close();
      for (const client of clients) client.close();
    },
  };
}
