"""A Python client of the Orderbook services, generated from proto/ at run time.

Proof that the .proto files are all a client in another language needs: this script generates its
stubs with grpc_tools.protoc into a temporary directory, then runs a full session against running
auth and matching services -- sign up, sign in (alice with a TOTP second factor, codes computed
here per RFC 6238), admin funding, crossing orders, trades, balances, a cancel, and the statuses of
bad input, a missing token, a replayed TOTP code and a non-admin deposit.

Run it with Debian's interpreter, which has python3-grpcio and python3-grpc-tools (`make test-slow` installs them):

    /usr/bin/python3 tests/polyglot/session.py --auth 127.0.0.1:50051 --matching 127.0.0.1:50052 \
        --admin-login admin --admin-password orderbook-admin [--ca ca.crt [--cert client.crt --key client.key]]

It prints one "PASS <check>" line per check and exits 0, or prints "FAIL <check>: <why>" and exits 1.
"""

import argparse
import base64
import hashlib
import hmac
import importlib
import os
import re
import secrets
import struct
import subprocess
import sys
import tempfile
import time

import grpc

PROTO_FILES = ("orderbook/auth/v1/auth.proto", "orderbook/matching/v1/matching.proto")
# google.rpc.Status and its details, for the grpc-status-details-bin trailer (from the npm package
# google-proto-files; Debian has no grpc_status package, so the stubs are generated here too).
GOOGLE_RPC_FILES = ("google/rpc/status.proto", "google/rpc/error_details.proto")
STATUS_DETAILS_TRAILER = "grpc-status-details-bin"
DEADLINE_SECONDS = 10


class CheckFailed(Exception):
    pass


def copy_google_rpc_files(google_proto_dir, out_dir):
    """Copies the google.rpc files without proto3 `optional` labels, which Debian's grpc_tools (libprotoc 3.5)
    does not know; the labels only add presence tracking to fields this client does not read."""
    include_dir = os.path.join(out_dir, "google-include")
    for name in GOOGLE_RPC_FILES:
        with open(os.path.join(google_proto_dir, name), encoding="utf-8") as source:
            text = re.sub(r"^(\s*)optional ", r"\1", source.read(), flags=re.MULTILINE)
        os.makedirs(os.path.dirname(os.path.join(include_dir, name)), exist_ok=True)
        with open(os.path.join(include_dir, name), "w", encoding="utf-8") as copy:
            copy.write(text)
    return include_dir


def generate_stubs(proto_dir, google_proto_dir, out_dir):
    """Runs protoc from the grpc_tools package of this interpreter (no separate protoc binary needed)."""
    google_include = copy_google_rpc_files(google_proto_dir, out_dir)
    command = [sys.executable, "-m", "grpc_tools.protoc", "-I" + proto_dir, "-I" + google_include,
               "--python_out=" + out_dir, "--grpc_python_out=" + out_dir]
    command += [os.path.join(proto_dir, name) for name in PROTO_FILES]
    command += [os.path.join(google_include, name) for name in GOOGLE_RPC_FILES]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CheckFailed("protoc failed: " + result.stderr.strip())
    # The generated modules import each other as orderbook.<service>.v1.<name>_pb2.
    sys.path.insert(0, out_dir)
    return {
        "auth_pb2": importlib.import_module("orderbook.auth.v1.auth_pb2"),
        "auth_grpc": importlib.import_module("orderbook.auth.v1.auth_pb2_grpc"),
        "matching_pb2": importlib.import_module("orderbook.matching.v1.matching_pb2"),
        "matching_grpc": importlib.import_module("orderbook.matching.v1.matching_pb2_grpc"),
        "status_pb2": importlib.import_module("google.rpc.status_pb2"),
        "error_details_pb2": importlib.import_module("google.rpc.error_details_pb2"),
    }


def check(name, condition, detail=""):
    if not condition:
        raise CheckFailed(name + (": " + detail if detail else ""))
    print("PASS " + name, flush=True)


def check_equal(name, actual, expected):
    check(name, actual == expected, "expected %r, got %r" % (expected, actual))


def bearer(token):
    return (("authorization", "Bearer " + token),)


def expect_status(name, call, code, message_prefix):
    """Runs call(), which must fail with `code` and a message that starts with message_prefix (the field it names); returns the error."""
    try:
        call()
    except grpc.RpcError as error:
        check(name, error.code() == code and error.details().startswith(message_prefix),
              "got %s %r" % (error.code(), error.details()))
        return error
    raise CheckFailed(name + ": the call succeeded, expected " + str(code))


def status_details(stubs, error):
    """The google.rpc.Status of an error's grpc-status-details-bin trailer, decoded as grpc_status.rpc_status.from_call does,
    as {"ErrorInfo": message, "BadRequest": message, ...}."""
    trailer = [value for key, value in (error.trailing_metadata() or ()) if key == STATUS_DETAILS_TRAILER]
    if not trailer:
        raise CheckFailed("no %s trailer on %s %r" % (STATUS_DETAILS_TRAILER, error.code(), error.details()))
    status = stubs["status_pb2"].Status.FromString(trailer[0])
    if status.code != error.code().value[0] or status.message != error.details():
        raise CheckFailed("the trailer's code and message differ from the call's: %r" % status)
    details = {}
    for any_detail in status.details:
        for type_name in ("ErrorInfo", "BadRequest", "RetryInfo"):
            message_type = getattr(stubs["error_details_pb2"], type_name)
            if any_detail.Is(message_type.DESCRIPTOR):
                message = message_type()
                any_detail.Unpack(message)
                details[type_name] = message
    return details


def totp_code(secret, step_offset=0):
    """RFC 6238 with the parameters BeginTotpEnrollment announces: HMAC-SHA1, 30 s steps, 6 digits."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int(time.time()) // 30 + step_offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1000000)


def sign_in_with_totp(auth, auth_pb, username, password):
    """Enrols a TOTP authenticator for the user, then signs in in two steps; returns the access token."""
    first = auth.SignIn(auth_pb.SignInRequest(login=username, password=password), timeout=DEADLINE_SECONDS)
    token = first.tokens.access_token
    begun = auth.BeginTotpEnrollment(auth_pb.BeginTotpEnrollmentRequest(current_password=password),
                                     metadata=bearer(token), timeout=DEADLINE_SECONDS)
    check_equal("TOTP parameters", (begun.digits, begun.period_seconds, begun.algorithm), (6, 30, "SHA1"))
    confirmed = auth.ConfirmTotpEnrollment(auth_pb.ConfirmTotpEnrollmentRequest(code=totp_code(begun.secret)),
                                           metadata=bearer(token), timeout=DEADLINE_SECONDS)
    check_equal("TOTP enrolment returns 10 recovery codes", len(confirmed.recovery_codes), 10)
    step_one = auth.SignIn(auth_pb.SignInRequest(login=username, password=password), timeout=DEADLINE_SECONDS)
    check("sign-in asks for the second factor", step_one.second_factor_required and not step_one.HasField("tokens"))
    # The confirmation spent the current step's code: the next step's is accepted (one step of tolerance).
    code = totp_code(begun.secret, 1)
    done = auth.CompleteSignIn(auth_pb.CompleteSignInRequest(ticket=step_one.second_factor_ticket, code=code), timeout=DEADLINE_SECONDS)
    check("sign in with TOTP", done.user.totp_enabled and done.tokens.access_token != "")
    expect_status("a replayed TOTP code is UNAUTHENTICATED",
                  lambda: auth.CompleteSignIn(auth_pb.CompleteSignInRequest(ticket=step_one.second_factor_ticket, code=code), timeout=DEADLINE_SECONDS),
                  grpc.StatusCode.UNAUTHENTICATED, "code")
    return done.tokens.access_token


def balances_of(matching, pb, token):
    """The caller's balances as (asset, available, locked), exactly as listed: by asset, zero balances absent."""
    response = matching.GetBalances(pb.GetBalancesRequest(), metadata=bearer(token), timeout=DEADLINE_SECONDS)
    return [(b.asset, b.available, b.locked) for b in response.balances]


def open_channel(address, credentials):
    return grpc.insecure_channel(address) if credentials is None else grpc.secure_channel(address, credentials)


def run_session(stubs, auth_address, matching_address, admin_login, admin_password, credentials):
    auth_pb = stubs["auth_pb2"]
    pb = stubs["matching_pb2"]
    with open_channel(auth_address, credentials) as auth_channel, open_channel(matching_address, credentials) as matching_channel:
        auth = stubs["auth_grpc"].AuthServiceStub(auth_channel)
        matching = stubs["matching_grpc"].MatchingServiceStub(matching_channel)

        # A fresh suffix lets the script run more than once against the same services.
        suffix = secrets.token_hex(4)
        traders = {}
        for name in ("alice", "bob"):
            username = "py-%s-%s" % (name, suffix)
            password = "password-" + username
            signed_up = auth.SignUp(auth_pb.SignUpRequest(username=username, email=username + "@example.com", password=password),
                                    timeout=DEADLINE_SECONDS)
            check_equal("sign up " + name, signed_up.user.username, username)
            check("sign up %s has the trader role" % name, list(signed_up.user.roles) == [auth_pb.ROLE_TRADER])
            signed_in = auth.SignIn(auth_pb.SignInRequest(login=username, password=password), timeout=DEADLINE_SECONDS)
            check_equal("sign in " + name, signed_in.user.id, signed_up.user.id)
            token = sign_in_with_totp(auth, auth_pb, username, password) if name == "alice" else signed_in.tokens.access_token
            traders[name] = (signed_in.user.id, token)
        alice_id, alice = traders["alice"]
        bob_id, bob = traders["bob"]

        admin = auth.SignIn(auth_pb.SignInRequest(login=admin_login, password=admin_password), timeout=DEADLINE_SECONDS)
        check("sign in as admin", auth_pb.ROLE_ADMIN in admin.user.roles)
        admin_token = admin.tokens.access_token

        funded = matching.AddFunds(pb.AddFundsRequest(user_id=alice_id, asset="USD", amount="1000.5"),
                                   metadata=bearer(admin_token), timeout=DEADLINE_SECONDS)
        check_equal("admin adds 1000.5 USD to alice", (funded.balance.available, funded.balance.locked), ("1000.5", "0"))
        funded = matching.AddFunds(pb.AddFundsRequest(user_id=bob_id, asset="BTC", amount="2"),
                                   metadata=bearer(admin_token), timeout=DEADLINE_SECONDS)
        check_equal("admin adds 2 BTC to bob", (funded.balance.available, funded.balance.locked), ("2", "0"))

        sell = matching.PlaceLimitOrder(pb.PlaceLimitOrderRequest(market="BTC-USD", side=pb.SIDE_SELL, price="100.25", quantity="0.5"),
                                        metadata=bearer(bob), timeout=DEADLINE_SECONDS)
        check_equal("bob's sell 0.5 @ 100.25 rests", (sell.order.status, sell.order.remaining_quantity, len(sell.trades)),
                    (pb.ORDER_STATUS_OPEN, "0.5", 0))

        # Alice's buy crosses at the maker's price: 0.3 × 100.25 = 30.075 USD, and the 0.225 USD
        # locked above that (at her limit of 101) comes back to her.
        buy = matching.PlaceLimitOrder(pb.PlaceLimitOrderRequest(market="BTC-USD", side=pb.SIDE_BUY, price="101", quantity="0.3"),
                                       metadata=bearer(alice), timeout=DEADLINE_SECONDS)
        check_equal("alice's buy 0.3 @ 101 is filled", (buy.order.status, buy.order.filled_quantity), (pb.ORDER_STATUS_FILLED, "0.3"))
        check_equal("one trade at the maker's price",
                    [(t.price, t.quantity, t.quote_amount, t.maker_order_id, t.taker_order_id, t.taker_side) for t in buy.trades],
                    [("100.25", "0.3", "30.075", sell.order.order_id, buy.order.order_id, pb.SIDE_BUY)])
        check("order ids are uint64 integers", isinstance(buy.order.order_id, int) and buy.order.order_id > 0)

        maker = matching.GetOrder(pb.GetOrderRequest(order_id=sell.order.order_id), metadata=bearer(bob), timeout=DEADLINE_SECONDS)
        check_equal("bob's order is partially filled",
                    (maker.order.status, maker.order.filled_quantity, maker.order.remaining_quantity, maker.order.locked_amount),
                    (pb.ORDER_STATUS_PARTIALLY_FILLED, "0.3", "0.2", "0.2"))

        check_equal("alice's balances", balances_of(matching, pb, alice), [("BTC", "0.3", "0"), ("USD", "970.425", "0")])
        check_equal("bob's balances", balances_of(matching, pb, bob), [("BTC", "1.5", "0.2"), ("USD", "30.075", "0")])

        book = matching.GetOrderBook(pb.GetOrderBookRequest(market="BTC-USD"), timeout=DEADLINE_SECONDS)
        check_equal("the book shows bob's remaining 0.2 @ 100.25",
                    ([(l.price, l.quantity, l.order_count) for l in book.asks], len(book.bids)), ([("100.25", "0.2", 1)], 0))

        # Stream messages are encoded once on the server and written as the same bytes to every
        # subscriber: a Python client decodes them like any other message.
        stream = matching.StreamOrderBook(pb.StreamOrderBookRequest(market="BTC-USD", depth=5), timeout=DEADLINE_SECONDS)
        first = next(stream)
        check_equal("the book stream starts with a snapshot, not conflated",
                    (first.WhichOneof("event"), [(l.price, l.quantity) for l in first.snapshot.asks], first.conflated, first.sequence == book.sequence),
                    ("snapshot", [("100.25", "0.2")], False, True))

        cancelled = matching.CancelOrder(pb.CancelOrderRequest(order_id=sell.order.order_id), metadata=bearer(bob), timeout=DEADLINE_SECONDS)
        check_equal("bob cancels the rest, 0.2 BTC released",
                    (cancelled.order.status, cancelled.released_amount, cancelled.released_asset), (pb.ORDER_STATUS_CANCELLED, "0.2", "BTC"))
        check_equal("bob's balances after the cancel", balances_of(matching, pb, bob), [("BTC", "1.7", "0"), ("USD", "30.075", "0")])
        update = next(stream)
        check_equal("the cancel reaches the stream as the next level update",
                    (update.WhichOneof("event"), update.update.price, update.update.quantity, update.sequence), ("update", "100.25", "0", first.sequence + 1))
        stream.cancel()

        error = expect_status("a price with 7 decimals is INVALID_ARGUMENT naming the price",
                              lambda: matching.PlaceLimitOrder(pb.PlaceLimitOrderRequest(market="BTC-USD", side=pb.SIDE_BUY, price="1.1234567", quantity="1"),
                                                               metadata=bearer(alice), timeout=DEADLINE_SECONDS),
                              grpc.StatusCode.INVALID_ARGUMENT, "price")
        details = status_details(stubs, error)
        check_equal("its trailer: ErrorInfo INVALID_FIELD and a BadRequest violation of price",
                    (details["ErrorInfo"].reason, details["ErrorInfo"].domain, [v.field for v in details["BadRequest"].field_violations]),
                    ("INVALID_FIELD", "orderbook", ["price"]))
        error = expect_status("a call without a token is UNAUTHENTICATED",
                              lambda: matching.GetBalances(pb.GetBalancesRequest(), timeout=DEADLINE_SECONDS),
                              grpc.StatusCode.UNAUTHENTICATED, "authorization")
        check_equal("its trailer: ErrorInfo ACCESS_TOKEN_MISSING", status_details(stubs, error)["ErrorInfo"].reason, "ACCESS_TOKEN_MISSING")
        error = expect_status("a trader's AddFunds is PERMISSION_DENIED",
                              lambda: matching.AddFunds(pb.AddFundsRequest(user_id=alice_id, asset="USD", amount="1"),
                                                        metadata=bearer(alice), timeout=DEADLINE_SECONDS),
                              grpc.StatusCode.PERMISSION_DENIED, "")
        check_equal("its trailer: ErrorInfo ADMIN_ROLE_REQUIRED", status_details(stubs, error)["ErrorInfo"].reason, "ADMIN_ROLE_REQUIRED")
        error = expect_status("a market order the book cannot fill is FAILED_PRECONDITION",
                              lambda: matching.PlaceMarketOrder(pb.PlaceMarketOrderRequest(market="ETH-USD", side=pb.SIDE_BUY, quantity="1"),
                                                                metadata=bearer(alice), timeout=DEADLINE_SECONDS),
                              grpc.StatusCode.FAILED_PRECONDITION, "quantity")
        check_equal("its trailer: ErrorInfo INSUFFICIENT_LIQUIDITY", status_details(stubs, error)["ErrorInfo"].reason, "INSUFFICIENT_LIQUIDITY")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--auth", required=True, help="host:port of orderbook.auth.v1.AuthService")
    parser.add_argument("--matching", required=True, help="host:port of orderbook.matching.v1.MatchingService")
    parser.add_argument("--admin-login", required=True)
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--ca", help="CA certificate (PEM) the servers' certificates chain to: dial over TLS")
    parser.add_argument("--cert", help="client certificate (PEM) for mutual TLS, with --key")
    parser.add_argument("--key", help="private key (PEM) of --cert")
    parser.add_argument("--proto-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto"))
    parser.add_argument("--google-proto-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "node_modules", "google-proto-files"))
    args = parser.parse_args()
    credentials = None
    if args.ca is not None:
        read = lambda path: None if path is None else open(path, "rb").read()
        credentials = grpc.ssl_channel_credentials(root_certificates=read(args.ca), private_key=read(args.key), certificate_chain=read(args.cert))
    with tempfile.TemporaryDirectory(prefix="orderbook-python-stubs-") as out_dir:
        try:
            stubs = generate_stubs(os.path.normpath(args.proto_dir), os.path.normpath(args.google_proto_dir), out_dir)
            print("PASS generate Python stubs from proto/ (grpc_tools.protoc)", flush=True)
            run_session(stubs, args.auth, args.matching, args.admin_login, args.admin_password, credentials)
        except CheckFailed as failure:
            print("FAIL " + str(failure), flush=True)
            return 1
        except grpc.RpcError as error:
            print("FAIL unexpected status %s: %s" % (error.code(), error.details()), flush=True)
            return 1
    print("python client session: all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
