import type { JsonValue } from '@bufbuild/protobuf';
import { BadRequestError } from './request-message';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A request body as JSON, strictly: UTF-8 only (a lenient decoder would turn bad bytes into U+FFFD
 * and pass a different text on) and no key twice in one object (JSON.parse keeps the last, while a
 * proxy or log in front may have read the first: both must see one request).
 */
export function parseJsonBody(bytes: Uint8Array): JsonValue {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new BadRequestError('body', 'not UTF-8');
  }
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new BadRequestError('body', `not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const repeated = repeatedKey(text);
  if (repeated !== undefined) throw new BadRequestError(repeated.path, 'given more than once');
  return value;
}

interface Container {
  readonly keys?: Set<string>;
  /** In an object: the next string is a key. */
  expectingKey: boolean;
  /** The key whose value is being read, for naming a repeat inside it. */
  key?: string;
}

/** The first key that an object of valid JSON text repeats, with its dotted path; undefined if none. */
function repeatedKey(text: string): { path: string } | undefined {
  const stack: Container[] = [];
  const path = (key: string): string => [...stack.slice(0, -1).flatMap((c) => (c.key === undefined ? [] : [c.key])), key].join('.');
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '{') stack.push({ keys: new Set(), expectingKey: true });
    else if (c === '[') stack.push({ expectingKey: false });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',' && top?.keys !== undefined) top.expectingKey = true;
    else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (top?.keys !== undefined && top.expectingKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return { path: path(key) };
        top.keys.add(key);
        top.key = key;
        top.expectingKey = false;
      }
      i = end;
    }
  }
  return undefined;
}
