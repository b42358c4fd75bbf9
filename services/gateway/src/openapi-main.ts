import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { descriptorSetPath } from '@orderbook/proto';
import { packageDir } from '@orderbook/server-kit';
import { Contract } from './contract';
import { openApiDocument } from './openapi';

/** `make proto`: writes services/gateway/openapi.json from the descriptor set (a test fails when it is stale). */
export const OPENAPI_PATH = join(packageDir(__dirname), 'openapi.json');

export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(Contract.load(descriptorSetPath)), null, 2)}\n`;
}

if (require.main === module) writeFileSync(OPENAPI_PATH, openApiText());
