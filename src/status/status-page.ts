// The status page's one file, built into dist/web/status/index.html by `npm run build`: read once, served plain or gzipped with an ETag.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT } from '../paths.js';

export const STATUS_PAGE_FILE = path.join(ROOT, 'dist', 'web', 'status', 'index.html');

export interface StatusPage {
  readonly html: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

let loaded: StatusPage | null | undefined;

/** The built page, or null when it was not built (the HTTP endpoint then says how to build it). Read once per process. */
export function statusPage(file: string = STATUS_PAGE_FILE): StatusPage | null {
  if (loaded !== undefined && file === STATUS_PAGE_FILE) return loaded;
  let page: StatusPage | null = null;
  try {
    const html = fs.readFileSync(file);
    page = { html, gzip: zlib.gzipSync(html, { level: 9 }), etag: `"${crypto.createHash('sha1').update(html).digest('base64url')}"` };
  } catch {
    page = null;
  }
  if (file === STATUS_PAGE_FILE) loaded = page;
  return page;
}
