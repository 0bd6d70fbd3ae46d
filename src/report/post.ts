// POSTs the report where upstream users read it: retries with doubling waits on network errors, timeouts and 5xx/408/429, and errors naming URL, status and attempt.
import { LuxError } from '../errors.js';
import { REPORT_DEFAULTS } from './report-defaults.js';

export interface PostOptions {
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
  /** told of each failed attempt that will be retried */
  onRetry?: (message: string, waitMs: number) => void;
}

/** A POST that did not succeed: the URL, the last HTTP status (undefined: no answer) and the attempts made. */
export class PostError extends LuxError {
  constructor(
    message: string,
    readonly url: string,
    readonly status: number | undefined,
    readonly attempts: number,
  ) {
    super('E_IO', message);
  }
}

function retriable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

export async function postReport(url: string, body: string, contentType: string, options: Partial<PostOptions> = {}): Promise<{ status: number; attempts: number }> {
  const o: PostOptions = { attempts: REPORT_DEFAULTS.postAttempts, backoffMs: REPORT_DEFAULTS.postBackoffMs, timeoutMs: REPORT_DEFAULTS.postTimeoutMs, ...options };
  let last = '';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body, signal: AbortSignal.timeout(o.timeoutMs) });
      // the body is read so the connection can be reused or closed
      const text = await res.text().catch(() => '');
      if (res.ok) return { status: res.status, attempts: attempt };
      lastStatus = res.status;
      last = `POST ${url}: attempt ${attempt} of ${o.attempts}: HTTP ${res.status} ${res.statusText}${text === '' ? '' : `: ${text.slice(0, 200).trim()}`}`;
      if (!retriable(res.status)) throw new PostError(`${last} (not retried: the server refused the report)`, url, res.status, attempt);
    } catch (e) {
      if (e instanceof PostError) throw e;
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const why = err.name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
      lastStatus = undefined;
      last = `POST ${url}: attempt ${attempt} of ${o.attempts}: ${why}`;
    }
    if (attempt < o.attempts) {
      const waitMs = o.backoffMs * 2 ** (attempt - 1);
      o.onRetry?.(last, waitMs);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
  throw new PostError(`${last}; giving up`, url, lastStatus, o.attempts);
}
