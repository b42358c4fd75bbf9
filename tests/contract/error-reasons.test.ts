import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { ENGINE_REASONS, ORDER_REJECTED } from '@orderbook/matching-service/src/api/status-mapping';
import { INTERNAL_ERROR, INVALID_FIELD } from '@orderbook/server-kit';
import { ROOT, sourceFiles } from './import-graph';

/**
 * The services' and packages' own code (not tests, not generated code, not the client SDK, whose
 * own reasons, NOT_SIGNED_IN and SECOND_FACTOR_REQUIRED, are raised in the caller's process and
 * listed in packages/client/README.md).
 */
const serviceSources = sourceFiles()
  .filter((file) => /^(services|packages)\/[^/]+\/src\//.test(file) && !file.includes('/gen/') && !file.startsWith('packages/client/'))
  .map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

/** Every ErrorInfo reason the code can send. */
function reasonsSent(): Set<string> {
  const reasons = new Set<string>([...Object.values(ENGINE_REASONS), ORDER_REJECTED, INVALID_FIELD, INTERNAL_ERROR]);
  for (const { text } of serviceSources) {
    for (const match of text.matchAll(/reason: '([A-Z][A-Z0-9_]*)'/g)) reasons.add(match[1]!);
  }
  // The command loop's failures are reasons too (CommandLoopFailedError.reason).
  const loopErrors = readFileSync(join(ROOT, 'services/matching/src/loop/errors.ts'), 'utf8');
  const failures = /export type LoopFailure = ([^;]+);/.exec(loopErrors);
  expect(failures, 'LoopFailure union in loop/errors.ts').to.not.equal(null);
  for (const match of failures![1]!.matchAll(/'([A-Z0-9_]+)'/g)) reasons.add(match[1]!);
  return reasons;
}

function reasonsListed(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('<!-- error-reasons:start -->'), readme.indexOf('<!-- error-reasons:end -->'));
  return new Map([...table.matchAll(/^\| `([A-Z0-9_]+)` \| ([A-Z_]+) \|/gm)].map((m) => [m[1]!, m[2]!]));
}

/** The text of the call that starts at index, up to its closing parenthesis. */
function callAt(text: string, index: number): string {
  let depth = 0;
  for (let i = text.indexOf('(', index); i < text.length; i += 1) {
    if (text[i] === '(') depth += 1;
    if (text[i] === ')' && --depth === 0) return text.slice(index, i + 1);
  }
  return text.slice(index);
}

describe('error reasons (google.rpc.ErrorInfo) are a listed contract', () => {
  it('every reason the code sends is in the README table, and the table lists none that nothing sends', () => {
    const sent = reasonsSent();
    const listed = reasonsListed();
    expect(sent.size).to.be.greaterThan(40);
    expect([...sent].filter((r) => !listed.has(r)), 'sent but not listed').to.deep.equal([]);
    expect([...listed.keys()].filter((r) => !sent.has(r)), 'listed but never sent').to.deep.equal([]);
  });

  it('reasons are UPPER_SNAKE_CASE', () => {
    for (const reason of reasonsSent()) expect(reason).to.match(/^[A-Z][A-Z0-9_]*[A-Z0-9]$/);
  });

  it('every RESOURCE_EXHAUSTED and UNAVAILABLE the code builds carries RetryInfo', () => {
    const missing: string[] = [];
    for (const { file, text } of serviceSources) {
      for (const match of text.matchAll(/grpcError\((?:grpc\.)?status\.(RESOURCE_EXHAUSTED|UNAVAILABLE),/g)) {
        const call = callAt(text, match.index);
        if (!call.includes('retryDelayMs')) missing.push(`${file}: ${call.slice(0, 120)}`);
      }
      for (const match of text.matchAll(/status\.(RESOURCE_EXHAUSTED|UNAVAILABLE),\s*'[^']*',\s*\{[^}]*\}/g)) {
        if (!match[0].includes('retryDelayMs')) missing.push(`${file}: ${match[0].slice(0, 120)}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });
});
