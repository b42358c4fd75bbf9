#!/usr/bin/env bash
# make run-ha: a 3-node NATS JetStream cluster (the installed nats-server, with a user and password),
# the auth service, and two matching instances on the replicated journal (stream and lease bucket
# with 3 replicas), all under ./data/ha; prints which matching instance leads. Ctrl-C stops all.
# Ports: NATS 4301-4303 (routes 6301-6303), auth 50061, matching 50062 and 50063 (metrics 9472, 9473).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${HA_DATA_DIR:-./data/ha}
NATS_USER=orderbook
NATS_PASSWORD=${HA_NATS_PASSWORD:-orderbook-ha-dev}
mkdir -p "$DATA"
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap stop INT TERM EXIT

routes=""
for i in 1 2 3; do routes="$routes${routes:+, }nats-route://$NATS_USER:$NATS_PASSWORD@127.0.0.1:630$i"; done
for i in 1 2 3; do
  cat >"$DATA/nats$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:430$i
authorization { user: $NATS_USER, password: "$NATS_PASSWORD" }
jetstream { store_dir: "$DATA/nats$i" }
cluster {
  name: orderbook-ha
  listen: 127.0.0.1:630$i
  authorization { user: $NATS_USER, password: "$NATS_PASSWORD" }
  routes: [$routes]
}
CONF
  nats-server -c "$DATA/nats$i.conf" >"$DATA/nats$i.log" 2>&1 &
  pids+=($!)
done
echo "NATS cluster: nats://127.0.0.1:4301,4302,4303 (user $NATS_USER; logs in $DATA/nats*.log)"

AUTH_PORT=50061 AUTH_DATA_DIR="$DATA/auth" AUTH_ADMIN_USERNAME=${AUTH_ADMIN_USERNAME:-admin} \
  AUTH_ADMIN_EMAIL=${AUTH_ADMIN_EMAIL:-admin@example.com} AUTH_ADMIN_PASSWORD=${AUTH_ADMIN_PASSWORD:-orderbook-admin} \
  node services/auth/dist/src/main.js >"$DATA/auth.log" 2>&1 &
pids+=($!)

journal="nats://127.0.0.1:4301,nats://127.0.0.1:4302,nats://127.0.0.1:4303"
for n in 2 3; do
  MATCHING_PORT=5006$n MATCHING_METRICS_PORT=947$n MATCHING_DATA_DIR="$DATA/matching$n" AUTH_ADDRESS=127.0.0.1:50061 \
    MATCHING_ADVERTISED_ADDRESS=127.0.0.1:5006$n MATCHING_JOURNAL="$journal" MATCHING_JOURNAL_REPLICAS=3 MATCHING_NATS_USER=$NATS_USER MATCHING_NATS_PASSWORD="$NATS_PASSWORD" \
    node services/matching/dist/src/main.js >"$DATA/matching$n.log" 2>&1 &
  pids+=($!)
done

# NATS elects its JetStream meta leader first: the matching instances retry until they serve.
for n in 2 3; do
  for _ in $(seq 1 120); do
    grep -q '"msg":"matching service serving"' "$DATA/matching$n.log" 2>/dev/null && break
    sleep 0.5
  done
done
for n in 2 3; do
  if grep -q '"msg":"leading:' "$DATA/matching$n.log"; then role=leader; else role=follower; fi
  echo "matching grpc://127.0.0.1:5006$n  $role  (metrics http://127.0.0.1:947$n/metrics, log $DATA/matching$n.log)"
done
echo "auth     grpc://127.0.0.1:50061 (admin: ${AUTH_ADMIN_USERNAME:-admin} / ${AUTH_ADMIN_PASSWORD:-orderbook-admin}, development defaults)"
echo "Kill the leader (kill -9 its pid) and watch the follower take over; Ctrl-C stops all."
wait -n "${pids[@]}" || true
