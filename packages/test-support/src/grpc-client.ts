import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { auth, matching } from '@orderbook/proto';

/** Promise-returning clients over the generated ts-proto ones, as a user of the .proto files would write them. */

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (err: grpc.ServiceError | null, res: Res) => void,
) => unknown;

function unary<Req, Res>(client: grpc.Client, method: Unary<Req, Res>, request: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions> = {}): Promise<Res> {
  return new Promise((resolve, reject) => method.call(client, request, metadata, options, (err, response) => (err ? reject(err) : resolve(response))));
}

export function bearer(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

export class MatchingClient {
  readonly raw: matching.MatchingServiceClient;

  constructor(address: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
    this.raw = new matching.MatchingServiceClient(address, credentials, options);
  }

  placeLimitOrder(request: Partial<matching.PlaceLimitOrderRequest>, metadata = new grpc.Metadata()): Promise<matching.PlaceLimitOrderResponse> {
    return unary(this.raw, this.raw.placeLimitOrder, matching.PlaceLimitOrderRequest.fromPartial(request), metadata);
  }
  placeMarketOrder(request: Partial<matching.PlaceMarketOrderRequest>, metadata = new grpc.Metadata()): Promise<matching.PlaceMarketOrderResponse> {
    return unary(this.raw, this.raw.placeMarketOrder, matching.PlaceMarketOrderRequest.fromPartial(request), metadata);
  }
  cancelOrder(request: Partial<matching.CancelOrderRequest>, metadata = new grpc.Metadata()): Promise<matching.CancelOrderResponse> {
    return unary(this.raw, this.raw.cancelOrder, matching.CancelOrderRequest.fromPartial(request), metadata);
  }
  cancelAllOrders(request: Partial<matching.CancelAllOrdersRequest>, metadata = new grpc.Metadata()): Promise<matching.CancelAllOrdersResponse> {
    return unary(this.raw, this.raw.cancelAllOrders, matching.CancelAllOrdersRequest.fromPartial(request), metadata);
  }
  cancelAllOrdersAfter(request: Partial<matching.CancelAllOrdersAfterRequest>, metadata = new grpc.Metadata()): Promise<matching.CancelAllOrdersAfterResponse> {
    return unary(this.raw, this.raw.cancelAllOrdersAfter, matching.CancelAllOrdersAfterRequest.fromPartial(request), metadata);
  }
  placeOcoOrder(request: Partial<matching.PlaceOcoOrderRequest>, metadata = new grpc.Metadata()): Promise<matching.PlaceOcoOrderResponse> {
    return unary(this.raw, this.raw.placeOcoOrder, matching.PlaceOcoOrderRequest.fromPartial(request), metadata);
  }
  amendOrder(request: Partial<matching.AmendOrderRequest>, metadata = new grpc.Metadata()): Promise<matching.AmendOrderResponse> {
    return unary(this.raw, this.raw.amendOrder, matching.AmendOrderRequest.fromPartial(request), metadata);
  }
  getOrder(request: Partial<matching.GetOrderRequest>, metadata = new grpc.Metadata()): Promise<matching.GetOrderResponse> {
    return unary(this.raw, this.raw.getOrder, matching.GetOrderRequest.fromPartial(request), metadata);
  }
  listOrders(request: Partial<matching.ListOrdersRequest>, metadata = new grpc.Metadata()): Promise<matching.ListOrdersResponse> {
    return unary(this.raw, this.raw.listOrders, matching.ListOrdersRequest.fromPartial(request), metadata);
  }
  getOrderBook(request: Partial<matching.GetOrderBookRequest>, metadata = new grpc.Metadata()): Promise<matching.GetOrderBookResponse> {
    return unary(this.raw, this.raw.getOrderBook, matching.GetOrderBookRequest.fromPartial(request), metadata);
  }
  getBalances(metadata = new grpc.Metadata()): Promise<matching.GetBalancesResponse> {
    return unary(this.raw, this.raw.getBalances, {}, metadata);
  }
  addFunds(request: Partial<matching.AddFundsRequest>, metadata = new grpc.Metadata()): Promise<matching.AddFundsResponse> {
    return unary(this.raw, this.raw.addFunds, matching.AddFundsRequest.fromPartial(request), metadata);
  }
  getFeeBalances(metadata = new grpc.Metadata()): Promise<matching.GetFeeBalancesResponse> {
    return unary(this.raw, this.raw.getFeeBalances, {}, metadata);
  }
  listMarkets(metadata = new grpc.Metadata()): Promise<matching.ListMarketsResponse> {
    return unary(this.raw, this.raw.listMarkets, {}, metadata);
  }

  withdrawFunds(request: Partial<matching.WithdrawFundsRequest>, metadata = new grpc.Metadata()): Promise<matching.WithdrawFundsResponse> {
    return unary(this.raw, this.raw.withdrawFunds, matching.WithdrawFundsRequest.fromPartial(request), metadata);
  }

  listLedgerEntries(request: Partial<matching.ListLedgerEntriesRequest>, metadata = new grpc.Metadata()): Promise<matching.ListLedgerEntriesResponse> {
    return unary(this.raw, this.raw.listLedgerEntries, matching.ListLedgerEntriesRequest.fromPartial(request), metadata);
  }

  listTrades(request: Partial<matching.ListTradesRequest>, metadata = new grpc.Metadata()): Promise<matching.ListTradesResponse> {
    return unary(this.raw, this.raw.listTrades, matching.ListTradesRequest.fromPartial(request), metadata);
  }

  getRecentTrades(request: Partial<matching.GetRecentTradesRequest>, metadata = new grpc.Metadata()): Promise<matching.GetRecentTradesResponse> {
    return unary(this.raw, this.raw.getRecentTrades, matching.GetRecentTradesRequest.fromPartial(request), metadata);
  }

  getTicker(request: Partial<matching.GetTickerRequest>, metadata = new grpc.Metadata()): Promise<matching.GetTickerResponse> {
    return unary(this.raw, this.raw.getTicker, matching.GetTickerRequest.fromPartial(request), metadata);
  }

  listCandles(request: Partial<matching.ListCandlesRequest>, metadata = new grpc.Metadata()): Promise<matching.ListCandlesResponse> {
    return unary(this.raw, this.raw.listCandles, matching.ListCandlesRequest.fromPartial(request), metadata);
  }
  close(): void {
    this.raw.close();
  }
}

/** A promise-returning AuthService client. */
export class AuthClient {
  readonly raw: auth.AuthServiceClient;
  constructor(address: string, options: grpc.ChannelOptions = {}, credentials = grpc.credentials.createInsecure()) {
    this.raw = new auth.AuthServiceClient(address, credentials, options);
  }
  signUp(request: auth.SignUpRequest, metadata = new grpc.Metadata()): Promise<auth.SignUpResponse> {
    return unary(this.raw, this.raw.signUp, request, metadata);
  }
  signIn(request: Partial<auth.SignInRequest>, metadata = new grpc.Metadata(), options: Partial<grpc.CallOptions> = {}): Promise<auth.SignInResponse> {
    return unary(this.raw, this.raw.signIn, auth.SignInRequest.fromPartial(request), metadata, options);
  }
  completeSignIn(request: auth.CompleteSignInRequest): Promise<auth.CompleteSignInResponse> {
    return unary(this.raw, this.raw.completeSignIn, request, new grpc.Metadata());
  }
  refreshToken(refreshToken: string): Promise<auth.RefreshTokenResponse> {
    return unary(this.raw, this.raw.refreshToken, { refreshToken }, new grpc.Metadata());
  }
  signOut(refreshToken: string): Promise<auth.SignOutResponse> {
    return unary(this.raw, this.raw.signOut, { refreshToken }, new grpc.Metadata());
  }
  getMe(metadata = new grpc.Metadata()): Promise<auth.GetMeResponse> {
    return unary(this.raw, this.raw.getMe, {}, metadata);
  }
  getPublicKeys(): Promise<auth.GetPublicKeysResponse> {
    return unary(this.raw, this.raw.getPublicKeys, {}, new grpc.Metadata());
  }
  changePassword(request: auth.ChangePasswordRequest, metadata: grpc.Metadata): Promise<auth.ChangePasswordResponse> {
    return unary(this.raw, this.raw.changePassword, request, metadata);
  }
  listSessions(metadata: grpc.Metadata): Promise<auth.ListSessionsResponse> {
    return unary(this.raw, this.raw.listSessions, {}, metadata);
  }
  revokeSession(sessionId: string, metadata: grpc.Metadata): Promise<auth.RevokeSessionResponse> {
    return unary(this.raw, this.raw.revokeSession, { sessionId }, metadata);
  }
  signOutEverywhere(metadata: grpc.Metadata): Promise<auth.SignOutEverywhereResponse> {
    return unary(this.raw, this.raw.signOutEverywhere, {}, metadata);
  }
  beginTotpEnrollment(currentPassword: string, metadata: grpc.Metadata): Promise<auth.BeginTotpEnrollmentResponse> {
    return unary(this.raw, this.raw.beginTotpEnrollment, { currentPassword }, metadata);
  }
  confirmTotpEnrollment(code: string, metadata: grpc.Metadata): Promise<auth.ConfirmTotpEnrollmentResponse> {
    return unary(this.raw, this.raw.confirmTotpEnrollment, { code }, metadata);
  }
  disableTotp(request: auth.DisableTotpRequest, metadata: grpc.Metadata): Promise<auth.DisableTotpResponse> {
    return unary(this.raw, this.raw.disableTotp, request, metadata);
  }
  lookupUser(login: string, metadata: grpc.Metadata): Promise<auth.LookupUserResponse> {
    return unary(this.raw, this.raw.lookupUser, { login }, metadata);
  }
  setUserRoles(request: auth.SetUserRolesRequest, metadata: grpc.Metadata): Promise<auth.SetUserRolesResponse> {
    return unary(this.raw, this.raw.setUserRoles, request, metadata);
  }
  listAuditEvents(request: Partial<auth.ListAuditEventsRequest>, metadata: grpc.Metadata): Promise<auth.ListAuditEventsResponse> {
    return unary(this.raw, this.raw.listAuditEvents, auth.ListAuditEventsRequest.fromPartial(request), metadata);
  }
  close(): void {
    this.raw.close();
  }
}

/** Asserts that the call fails with the status and, if given, a message matching `message`. */
export async function expectStatus(promise: Promise<unknown>, code: grpc.status, message?: RegExp): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    const error = err as grpc.ServiceError;
    expect(grpc.status[error.code], error.details).to.equal(grpc.status[code]);
    if (message !== undefined) expect(error.details).to.match(message);
    return error;
  }
  return expect.fail(`expected ${grpc.status[code]}, but the call succeeded`);
}

/** Collects a server stream's messages until it ends; resolves with them and the final status. */
export function collectStream<T>(stream: grpc.ClientReadableStream<T>): Promise<{ messages: T[]; status: grpc.StatusObject }> {
  return new Promise((resolve) => {
    const messages: T[] = [];
    let status: grpc.StatusObject | undefined;
    let done = false;
    // grpc-js reports the status (and an error) as soon as it arrives, possibly before the messages
    // buffered ahead of it were read; 'end' comes after the last one.
    const settle = (): void => {
      if (status !== undefined && done) resolve({ messages, status });
    };
    stream.on('data', (message: T) => messages.push(message));
    stream.on('end', () => ((done = true), settle()));
    stream.on('error', () => undefined);
    stream.on('status', (received: grpc.StatusObject) => ((status = received), settle()));
  });
}
