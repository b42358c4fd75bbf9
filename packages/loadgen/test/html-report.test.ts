import { expect } from 'chai';
import { renderHtmlReport } from '../src/html-report';
import { fakeMachine, fakeResult } from './bench-fixture';

describe('the HTML bench report', () => {
  const html = renderHtmlReport(fakeResult, fakeMachine, 'make bench ARGS="--levels 16,64"', '2026-01-01T00:00:00.000Z');

  it('is self-contained: no script, no stylesheet link, nothing loaded from elsewhere', () => {
    expect(html).to.not.match(/<script|<link|<img|<iframe/i);
    expect(html).to.not.match(/\s(src|href)=/i);
    expect(html).to.not.match(/url\(/i);
  });

  it('has, for every phase, four charts (throughput, p50/p99, GC pauses, RSS) with ours beside bare', () => {
    const sections = html.split('<section class="phase">').slice(1);
    // warm-up, two sweep steps, open loop, session
    expect(sections).to.have.length(5);
    for (const section of sections) {
      expect(section.match(/<svg class="chart"/g)).to.have.length(4);
      const drawn = [...section.matchAll(/data-series="([^"]+)"/g)].map(([, name]) => name);
      expect(drawn).to.deep.equal(['ours', 'bare', 'ours p99', 'ours p50', 'bare p99', 'bare p50', 'ours', 'bare', 'ours', 'bare']);
    }
  });

  it('has a table of the sequential calls, each with bare and ours side by side', () => {
    const section = html.split('<section class="sequential">')[1]!.split('</section>')[0]!;
    const rows = [...section.matchAll(/<tr><th>([^<]+)<\/th>((?:<td>[^<]*<\/td>)+)<\/tr>/g)];
    expect(rows.map(([, name]) => name)).to.deep.equal(fakeResult.ours.sequential.calls.map((c) => c.name));
    // bare mean, p50, p90, p99; ours mean, p50, p90, p99; inside matching
    for (const [, , cells] of rows) expect(cells!.match(/<td>/g)).to.have.length(9);
  });

  it('draws each second of a timeline as one point', () => {
    const warmup = html.split('<section class="phase">')[1]!;
    const firstLine = /<polyline[^>]*points="([^"]+)"/.exec(warmup)![1]!;
    expect(firstLine.split(' ')).to.have.length(fakeResult.ours.warmup.timeline.length);
  });

  it('escapes what it quotes', () => {
    expect(renderHtmlReport(fakeResult, { ...fakeMachine, cpuModel: '<b>cpu</b>' }, 'a & b', 'x')).to.include('&lt;b&gt;cpu&lt;/b&gt;').and.include('a &amp; b');
  });
});
