import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { TestStack } from './support/test-stack';

const ROOT = join(__dirname, '..', '..');
const DASHBOARD = join(ROOT, 'ops', 'dashboards', 'orderbook.json');
const ALERT_RULES = join(ROOT, 'ops', 'alerts', 'orderbook.rules.yml');

interface Target {
  readonly refId?: string;
  readonly expr?: string;
}
interface Panel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly gridPos?: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly Target[];
}
interface Dashboard {
  readonly title?: string;
  readonly uid?: string;
  readonly schemaVersion?: number;
  readonly panels?: readonly Panel[];
  readonly templating?: { readonly list?: ReadonlyArray<{ readonly name: string }> };
}

/** The names of this project's series that a PromQL text (or any text) mentions. */
function metricNames(text: string): Set<string> {
  return new Set(text.match(/\b(?:matching|auth|process|nodejs)_[a-z0-9_]+\b/g) ?? []);
}

/** Every series name a /metrics page can have: declared families, with a histogram's _bucket, _sum and _count. */
function exportedNames(page: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, kind] of page.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (kind === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

async function scrape(port: number | undefined): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).to.equal(200);
  return response.text();
}

describe('the Grafana dashboard and the alert rules', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  const panels = dashboard.panels ?? [];

  it('is a well-formed dashboard: a title and uid, unique panel ids, panels on the 24-column grid without overlap, every target a query with a refId', () => {
    expect(dashboard.title).to.be.a('string').and.not.equal('');
    expect(dashboard.uid).to.match(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.schemaVersion).to.be.a('number');
    expect(panels.length).to.be.greaterThan(10);
    expect(new Set(panels.map((p) => p.id)).size, 'unique ids').to.equal(panels.length);
    const cells = new Set<string>();
    for (const panel of panels) {
      expect(panel.type, `${panel.title}`).to.equal('timeseries');
      const { x, y, w, h } = panel.gridPos!;
      expect(x + w, `${panel.title} fits the grid`).to.be.at.most(24);
      for (let row = y; row < y + h; row++) {
        for (let column = x; column < x + w; column++) {
          expect(cells.has(`${row}:${column}`), `${panel.title} overlaps another panel`).to.equal(false);
          cells.add(`${row}:${column}`);
        }
      }
      expect(panel.targets?.length, `${panel.title} has queries`).to.be.greaterThan(0);
      const refIds = panel.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, `${panel.title}: unique refIds`).to.equal(refIds.length);
      for (const target of panel.targets!) expect(target.expr, `${panel.title} ${target.refId}`).to.be.a('string').and.not.equal('');
    }
  });

  it('uses only the template variables it declares', () => {
    const declared = new Set((dashboard.templating?.list ?? []).map((v) => v.name));
    const used = new Set([...JSON.stringify(dashboard).matchAll(/\$\{?([a-z_]+)\}?/g)].map(([, name]) => name!));
    expect([...used].filter((name) => !declared.has(name))).to.deep.equal([]);
  });

  describe('against the running services', () => {
    let stack: TestStack;
    before(async () => {
      stack = await TestStack.start({ authEnv: { AUTH_METRICS_PORT: '0' } });
    });
    after(() => stack.stop());

    it('auth counts its answers by method and code: a failed sign-in is auth_rpcs_total{method="SignIn",code="UNAUTHENTICATED"}', async () => {
      const failed = 'auth_rpcs_total{method="SignIn",code="UNAUTHENTICATED"}';
      const count = (page: string): number => Number(page.split('\n').find((line) => line.startsWith(`${failed} `))?.split(' ')[1] ?? 0);
      const before = count(await scrape(stack.auth.metricsPort));
      const err = await stack.authClient.signIn({ login: 'admin', password: 'not the password' }).catch((e: unknown) => e as grpc.ServiceError);
      expect((err as grpc.ServiceError).code).to.equal(grpc.status.UNAUTHENTICATED);
      expect(count(await scrape(stack.auth.metricsPort))).to.equal(before + 1);
    });

    it('name only metrics that matching and auth export', async () => {
      const exported = new Set([...exportedNames(await scrape(stack.matching.metricsPort)), ...exportedNames(await scrape(stack.auth.metricsPort))]);
      const inDashboard = metricNames(panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')).join('\n') + JSON.stringify(dashboard.templating));
      const inAlerts = metricNames(readFileSync(ALERT_RULES, 'utf8'));
      expect(inDashboard.size).to.be.greaterThan(15);
      expect(inAlerts.size).to.be.greaterThan(8);
      expect([...inDashboard].filter((name) => !exported.has(name)), 'dashboard').to.deep.equal([]);
      expect([...inAlerts].filter((name) => !exported.has(name)), 'alert rules').to.deep.equal([]);
    });
  });
});
