import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually } from '@orderbook/test-support';
import { HttpStack } from '../e2e/gateway/http-stack';

const root = join(__dirname, '..', '..');
const screenshots = join(root, 'test-results');

/** Debian's chromium (make test-tools installs it), headless, talking to nothing but this machine. */
function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

describe('web console in a real browser: two traders, one ask, one crossing bid', () => {
  let stack: HttpStack;
  let browser: Browser;
  const pages: Record<'seller' | 'buyer', Page> = {} as never;

  before(async function () {
    this.timeout(120_000);
    stack = await HttpStack.start('console');
    const admin = await stack.admin();
    const seller = await stack.trader('sally');
    const buyer = await stack.trader('bruno');
    await stack.call('POST', `/v1/users/${seller.userId}/funds`, { token: admin, body: { asset: 'BTC', amount: '2' } });
    await stack.call('POST', `/v1/users/${buyer.userId}/funds`, { token: admin, body: { asset: 'USD', amount: '100000' } });
    browser = await launch();
    for (const [name, login] of [['seller', 'sally'], ['buyer', 'bruno']] as const) {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      await page.goto(stack.url);
      await page.fill('#sign-in-form input[name=login]', login);
      await page.fill('#sign-in-form input[name=password]', `${login}-password-long`);
      await page.click('#sign-in-form button');
      await page.waitForSelector(`text=signed in as ${login}`);
      pages[name] = page;
    }
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    mkdirSync(screenshots, { recursive: true });
    for (const [name, page] of Object.entries(pages)) {
      await page.screenshot({ path: join(screenshots, `console-${name}-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 60)}.png`), fullPage: true });
    }
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function place(page: Page, order: { side: 'SIDE_BUY' | 'SIDE_SELL'; price: string; quantity: string }): Promise<void> {
    await page.selectOption('#order-form select[name=side]', order.side);
    await page.fill('#order-form input[name=price]', order.price);
    await page.fill('#order-form input[name=quantity]', order.quantity);
    await page.click('#order-form button');
  }

  const cells = (page: Page, selector: string) => page.locator(selector).allInnerTexts();

  /** Waits until a row of the table shows exactly these cells (or, with present false, none does). */
  async function showsRow(page: Page, tbody: string, row: readonly string[], present = true): Promise<void> {
    const text = row.join('\t');
    await eventually(async () => ((await cells(page, `${tbody} tr`)).includes(text) === present ? true : undefined), `${tbody} ${present ? 'to show' : 'not to show'} ${row.join(' ')}`);
  }

  it('shows the service\'s error next to the field it names', async () => {
    await place(pages.seller, { side: 'SIDE_SELL', price: '1e5', quantity: '0.5' });
    await pages.seller.locator('[data-error-for=price]', { hasText: /^price: / }).waitFor();
    expect(await pages.seller.locator('[data-error-for=quantity]').innerText()).to.equal('');
  });

  it('shows the seller\'s resting ask in the other trader\'s ladder, and in the seller\'s open orders and balances', async () => {
    await place(pages.seller, { side: 'SIDE_SELL', price: '30000', quantity: '0.5' });
    await pages.buyer.locator('#asks tr', { hasText: '30000' }).waitFor();
    expect(await cells(pages.buyer, '#asks tr')).to.deep.equal(['30000\t0.5']);
    await pages.seller.locator('#orders tr', { hasText: '30000' }).waitFor();
    await showsRow(pages.seller, '#balances', ['BTC', '1.5', '0.5']);
  });

  it('trades a crossing bid: both pages show the trade, the emptied book and the new balances', async () => {
    await place(pages.buyer, { side: 'SIDE_BUY', price: '30500', quantity: '0.5' });
    for (const page of Object.values(pages)) {
      await eventually(async () => ((await cells(page, '#trades tr')).some((r) => r.endsWith('\tbuy\t30000\t0.5')) ? true : undefined), 'the trade in the tape');
      await page.locator('#asks tr').first().waitFor({ state: 'detached' });
    }
    await showsRow(pages.buyer, '#balances', ['BTC', '0.5', '0']);
    await showsRow(pages.buyer, '#balances', ['USD', '85000', '0']);
    await showsRow(pages.seller, '#balances', ['USD', '15000', '0']);
    await pages.seller.locator('#orders tr').first().waitFor({ state: 'detached' });
  });

  it('cancels an open order with its button', async () => {
    await place(pages.seller, { side: 'SIDE_SELL', price: '32000', quantity: '0.25' });
    await pages.buyer.locator('#asks tr', { hasText: '32000' }).waitFor();
    await pages.seller.locator('#orders tr', { hasText: '32000' }).locator('button').click();
    await pages.buyer.locator('#asks tr', { hasText: '32000' }).waitFor({ state: 'detached' });
    await showsRow(pages.seller, '#balances', ['BTC', '1.5', '0']);
  });
});
