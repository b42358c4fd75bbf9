import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { CONFIG_VARIABLES as AUTH_VARIABLES } from '@orderbook/auth-service/src/config';
import { CONFIG_VARIABLES as GATEWAY_VARIABLES } from '@orderbook/gateway-service';
import { CONFIG_VARIABLES as MATCHING_VARIABLES } from '@orderbook/matching-service/src/ops/config';

describe('README configuration tables', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  for (const [service, variables] of [
    ['auth', AUTH_VARIABLES],
    ['matching', MATCHING_VARIABLES],
    ['gateway', GATEWAY_VARIABLES],
  ] as const) {
    it(`lists every ${service} variable with the default the code uses`, () => {
      const section = readme.slice(readme.indexOf(`### ${service} (`));
      const rows = variables.map((v) => `| \`${v.name}\` | ${v.default === '' ? '(unset)' : `\`${v.default}\``} |`);
      expect(rows.filter((row) => !section.includes(row))).to.deep.equal([]);
    });
  }
});
