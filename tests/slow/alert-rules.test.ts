import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const ALERTS = join(__dirname, '..', '..', 'ops', 'alerts');
const run = promisify(execFile);

/**
 * The alert rules in ops/alerts, by Prometheus's own tool (promtool, from Debian's prometheus
 * package: make test-tools): they parse, and each alert fires on synthetic series of its condition
 * and stays silent on a healthy instance beside it (orderbook.test.yml). That they name only
 * metrics the services export is tests/e2e/dashboard.test.ts.
 */
describe('alert rules (promtool)', () => {
  it('are valid Prometheus rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', 'orderbook.rules.yml'], { cwd: ALERTS });
    expect(stdout).to.match(/SUCCESS: \d+ rules found/);
  });

  it('fire on the synthetic series of their conditions and only there (promtool test rules)', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', 'orderbook.test.yml'], { cwd: ALERTS });
    expect(stdout).to.include('SUCCESS');
  });
});
