import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

/**
 * `make bench` writes an HTML report beside its JSON result; here a short real run (both targets,
 * every phase, a few seconds each) writes one, and headless Chromium (Debian's, make test-tools)
 * renders it with the network off: every chart is an SVG with a size, and every series of ours
 * and of bare is a line drawn across it.
 */
describe('the bench HTML report in a browser', () => {
  let dir: string;
  let browser: Browser | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-bench-report-'));
  });
  after(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is written by make bench and draws throughput, latency, GC and RSS charts of ours beside bare', async () => {
    const args = ['--users', '4', '--threads', '1', '--channels', '1', '--levels', '4', '--warmup', '2', '--step', '2', '--open', '2', '--session', '2', '--sequential', '10', '--quiet', '--out', dir];
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join('packages', 'loadgen', 'src', 'main.ts'), ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const path = /^HTML report: (.+)$/m.exec(stdout)?.[1];
    expect(path, stdout).to.be.a('string');
    const html = await readFile(path!, 'utf8');
    expect(html).to.not.match(/<script|\s(src|href)=/i);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const page = await browser.newPage();
    const fetched: string[] = [];
    page.on('request', (request) => fetched.push(request.url()));
    await page.goto(pathToFileURL(path!).href);
    const charts = await page.$$eval('svg.chart', (svgs) =>
      svgs.map((svg) => ({
        width: svg.getBoundingClientRect().width,
        lines: [...svg.querySelectorAll('polyline.series')].map((line) => {
          // An SVGPolylineElement (this project compiles without the DOM library).
          const polyline = line as unknown as { getBBox(): { width: number }; points: { numberOfItems: number } };
          return { series: line.getAttribute('data-series'), width: polyline.getBBox().width, points: polyline.points.numberOfItems };
        }),
      })),
    );
    expect(fetched.every((url) => url.startsWith('file:')), fetched.join(', ')).to.equal(true);
    const sequentialRows = await page.$$eval('section.sequential tr', (rows) => rows.map((row) => row.querySelectorAll('td').length));
    // a header row, then each call with bare's and ours' mean, p50, p90, p99 and the time inside matching
    expect(sequentialRows).to.deep.equal([0, 9, 9, 9, 9, 9, 9]);
    // warm-up, one sweep step, open loop, session: four charts each
    expect(charts).to.have.length(16);
    for (const chart of charts) expect(chart.width).to.be.greaterThan(100);
    const drawn = charts.flatMap((chart) => chart.lines);
    for (const series of ['ours', 'bare', 'ours p99', 'bare p99']) {
      expect(drawn.some((line) => line.series === series && line.points >= 1), `a ${series} line`).to.equal(true);
    }
    // Phases of 2 s give at least one point a second; a line of two points or more spans its chart.
    expect(drawn.filter((line) => line.points >= 2).every((line) => line.width > 0)).to.equal(true);
    expect(drawn.filter((line) => line.points >= 2).length).to.be.greaterThan(8);
  });
});
