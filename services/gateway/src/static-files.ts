import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { ServerResponse } from 'node:http';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

/** The web console's files, read once at start: only these names are ever served. */
export class StaticFiles {
  private readonly files = new Map<string, { type: string; bytes: Buffer }>();

  constructor(dir: string) {
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (type !== undefined) this.files.set(`/${name}`, { type, bytes: readFileSync(join(dir, name)) });
    }
  }

  /** Sends the file at path (`/` is index.html); false if there is none. */
  serve(path: string, res: ServerResponse): boolean {
    const file = this.files.get(path === '/' ? '/index.html' : path);
    if (file === undefined) return false;
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' });
    res.end(file.bytes);
    return true;
  }
}
