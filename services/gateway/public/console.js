// The Orderbook web console: plain JavaScript against the gateway's HTTP/JSON API (no build step).
'use strict';

const state = { token: null, market: null, streams: [], book: { bids: new Map(), asks: new Map() } };
const $ = (selector) => document.querySelector(selector);

/** Compares two decimal strings exactly (prices are never turned into floats for ordering). */
function compareDecimal(a, b) {
  const [ai, af = ''] = a.split('.');
  const [bi, bf = ''] = b.split('.');
  if (ai.length !== bi.length) return ai.length - bi.length;
  if (ai !== bi) return ai < bi ? -1 : 1;
  const width = Math.max(af.length, bf.length);
  const [ap, bp] = [af.padEnd(width, '0'), bf.padEnd(width, '0')];
  return ap === bp ? 0 : ap < bp ? -1 : 1;
}

async function api(method, path, body) {
  const headers = {};
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(json.message || response.statusText), { status: json });
  return json;
}

/** The field an error names: google.rpc.BadRequest's first violation, else the "field: ..." message prefix. */
function fieldOf(status) {
  const violation = (status.details || []).find((d) => d['@type'] === 'type.googleapis.com/google.rpc.BadRequest');
  if (violation && violation.fieldViolations && violation.fieldViolations[0]) return violation.fieldViolations[0].field;
  const named = /^([a-z_]+): /.exec(status.message || '');
  return named ? named[1] : undefined;
}

function showError(scope, err, fallback) {
  for (const el of scope.querySelectorAll('[data-error-for]')) el.textContent = '';
  if (!err) return;
  const field = err.status ? fieldOf(err.status) : undefined;
  const target = (field && scope.querySelector(`[data-error-for="${field}"]`)) || scope.querySelector(`[data-error-for="${fallback}"]`);
  target.textContent = err.message;
}

function row(cells, className) {
  const tr = document.createElement('tr');
  if (className) tr.className = className;
  for (const cell of cells) {
    const td = document.createElement('td');
    if (cell instanceof Node) td.append(cell);
    else td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

/** Follows a Server-Sent Events route over fetch (EventSource cannot send Authorization), resuming with Last-Event-ID. */
function follow(path, onEvent) {
  const controller = new AbortController();
  let lastId;
  (async () => {
    while (!controller.signal.aborted) {
      try {
        const headers = { accept: 'text/event-stream' };
        if (state.token) headers.authorization = `Bearer ${state.token}`;
        if (lastId !== undefined) headers['last-event-id'] = lastId;
        const response = await fetch(path, { headers, signal: controller.signal });
        if (!response.ok) {
          $('#connection').textContent = `stream ${path}: ${response.status}`;
          await new Promise((r) => setTimeout(r, 1000 * Number(response.headers.get('retry-after') || 2)));
          continue;
        }
        $('#connection').textContent = 'live';
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = { name: 'message', data: '' };
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) lastId = line.slice(4);
              else if (line.startsWith('event: ')) event.name = line.slice(7);
              else if (line.startsWith('data: ')) event.data += line.slice(6);
            }
            if (event.data !== '') onEvent(event.name, JSON.parse(event.data));
          }
        }
      } catch (err) {
        if (controller.signal.aborted) return;
      }
      $('#connection').textContent = 'reconnecting…';
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return () => controller.abort();
}

function renderBook() {
  const bids = [...state.book.bids.values()].sort((a, b) => compareDecimal(b.price, a.price)).slice(0, 12);
  const asks = [...state.book.asks.values()].sort((a, b) => compareDecimal(a.price, b.price)).slice(0, 12);
  $('#bids').replaceChildren(...bids.map((l) => row([l.quantity, l.price], 'bid')));
  $('#asks').replaceChildren(...asks.map((l) => row([l.price, l.quantity], 'ask')));
  drawDepth(bids, asks);
}

/** Cumulative quantity per price on both sides. Numbers here only place pixels: no amount is computed. */
function drawDepth(bids, asks) {
  const canvas = $('#depth');
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const sides = [
    { levels: bids, color: '#0a7d32' },
    { levels: asks, color: '#c0262d' },
  ];
  const prices = [...bids, ...asks].map((l) => Number(l.price));
  if (prices.length === 0) return;
  const [low, high] = [Math.min(...prices), Math.max(...prices)];
  const total = (levels) => levels.reduce((sum, l) => sum + Number(l.quantity), 0);
  const top = Math.max(total(bids), total(asks)) || 1;
  const x = (price) => (high === low ? canvas.width / 2 : ((price - low) / (high - low)) * (canvas.width - 20) + 10);
  const y = (quantity) => canvas.height - 5 - (quantity / top) * (canvas.height - 15);
  for (const { levels, color } of sides) {
    let cumulative = 0;
    ctx.beginPath();
    ctx.moveTo(x(Number(levels[0]?.price ?? low)), y(0));
    for (const level of levels) {
      ctx.lineTo(x(Number(level.price)), y(cumulative));
      cumulative += Number(level.quantity);
      ctx.lineTo(x(Number(level.price)), y(cumulative));
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.stroke();
  }
}

function onBookEvent(name, data) {
  if (name !== 'message') return;
  if (data.snapshot) {
    state.book = { bids: new Map(), asks: new Map() };
    for (const level of data.snapshot.bids || []) state.book.bids.set(level.price, level);
    for (const level of data.snapshot.asks || []) state.book.asks.set(level.price, level);
  } else if (data.update) {
    const side = data.update.side === 'SIDE_BUY' ? state.book.bids : state.book.asks;
    if (data.update.quantity === '0') side.delete(data.update.price);
    else side.set(data.update.price, data.update);
  }
  renderBook();
}

function onTradeEvent(name, data) {
  if (name !== 'message' || !data.trade) return;
  const t = data.trade;
  const time = new Date(Number(t.executedAtUnixMs)).toLocaleTimeString();
  const tape = $('#trades');
  tape.prepend(row([time, t.takerSide === 'SIDE_BUY' ? 'buy' : 'sell', t.price, t.quantity], t.takerSide === 'SIDE_BUY' ? 'bid' : 'ask'));
  while (tape.children.length > 30) tape.lastChild.remove();
}

async function refreshAccount() {
  if (!state.token) return;
  const [{ balances = [] }, { orders = [] }] = await Promise.all([
    api('GET', '/v1/balances'),
    api('GET', `/v1/orders?status=ORDER_STATUS_FILTER_OPEN&market=${encodeURIComponent(state.market)}`),
  ]);
  $('#balances').replaceChildren(...balances.map((b) => row([b.asset, b.available, b.locked || '0'])));
  $('#orders').replaceChildren(
    ...orders.map((o) => {
      const cancel = document.createElement('button');
      cancel.textContent = 'Cancel';
      cancel.dataset.orderId = o.orderId;
      cancel.addEventListener('click', async () => {
        try {
          await api('DELETE', `/v1/orders/${o.orderId}`);
          showError($('#orders').closest('section'), null);
        } catch (err) {
          showError($('#orders').closest('section'), err, 'cancel');
        }
        await refreshAccount();
      });
      return row([o.orderId, o.market, o.side === 'SIDE_BUY' ? 'buy' : 'sell', o.price || 'market', o.remainingQuantity, cancel], o.side === 'SIDE_BUY' ? 'bid' : 'ask');
    }),
  );
}

function watchMarket() {
  for (const stop of state.streams) stop();
  const market = encodeURIComponent(state.market);
  state.streams = [follow(`/v1/markets/${market}/book/events?depth=50`, onBookEvent), follow(`/v1/markets/${market}/trades/events`, onTradeEvent)];
  $('#trades').replaceChildren();
  if (state.token) {
    state.streams.push(follow(`/v1/order-updates/events`, (name) => name !== 'error' && refreshAccount()));
    void refreshAccount();
  }
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  try {
    const answer = await api('POST', '/v1/auth/sign-in', { login: form.login.value, password: form.password.value });
    if (!answer.tokens) throw new Error('this account needs a second factor: sign in with the API');
    state.token = answer.tokens.accessToken;
    $('#who').textContent = `signed in as ${answer.user.username}`;
    document.body.classList.add('authenticated');
    showError(form, null);
    watchMarket();
  } catch (err) {
    showError(form, err, 'sign-in');
  }
}

async function placeOrder(event) {
  event.preventDefault();
  const form = event.target;
  const market = form.type.value === 'market';
  const body = { market: state.market, side: form.side.value, quantity: form.quantity.value };
  if (!market) body.price = form.price.value;
  try {
    await api('POST', market ? '/v1/orders/market' : '/v1/orders', body);
    showError(form, null);
    await refreshAccount();
  } catch (err) {
    showError(form, err, 'order');
  }
}

async function start() {
  $('#sign-in-form').addEventListener('submit', signIn);
  $('#order-form').addEventListener('submit', placeOrder);
  $('#order-form').type.addEventListener('change', (e) => ($('#order-form').price.disabled = e.target.value === 'market'));
  const { markets = [] } = await api('GET', '/v1/markets');
  $('#market').replaceChildren(...markets.map((m) => new Option(m.symbol, m.symbol)));
  state.market = markets[0] ? markets[0].symbol : null;
  $('#market').addEventListener('change', (e) => {
    state.market = e.target.value;
    watchMarket();
  });
  watchMarket();
}

start();
