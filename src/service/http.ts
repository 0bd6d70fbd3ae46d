// The service's HTTP endpoints: /metrics (Prometheus text), /health (liveness), /ready (readiness with a JSON reason), and the status page (/ and /status.json).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LuxError } from '../errors.js';
import type { LuxMetrics } from '../metrics/registry.js';
import { statusPage } from '../status/status-page.js';

/**
 * What the daemon tells the readiness probe; it sets the fields as things happen (assignment, producer
 * init, SLA transitions, drain). Ready = partitions assigned, producer ready, SLA held, not draining.
 */
export class Readiness {
  partitionsAssigned = false;
  producerReady = false;
  slaHeld = true;
  draining = false;
  /** The SLA checker's last reason, shown while the SLA is breached. */
  slaReason = '';
  /** Input the pipeline cannot read past (a batch it cannot decompress), until a restart; empty when none. */
  inputStuck = '';
  /** Set by the main loop (e.g. each tick); /health fails once it is older than the stall limit. */
  lastBeatMs = Date.now();

  beat(nowMs = Date.now()): void {
    this.lastBeatMs = nowMs;
  }

  /** Why the process is not ready; empty when it is. */
  reasons(): string[] {
    const out: string[] = [];
    if (this.draining) out.push('draining for shutdown');
    if (!this.partitionsAssigned) out.push('no partitions of the raw topic assigned');
    if (!this.producerReady) out.push('transactional producer not ready');
    if (!this.slaHeld) out.push(`latency SLA breached${this.slaReason === '' ? '' : `: ${this.slaReason}`}`);
    if (this.inputStuck !== '') out.push(`input stuck: ${this.inputStuck}`);
    return out;
  }

  get ready(): boolean {
    return this.reasons().length === 0;
  }
}

export interface HttpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  metrics: LuxMetrics;
  readiness: Readiness;
  /** /health answers 503 once the main loop has not beaten for this long; 0 disables the check. */
  stallMs?: number;
  /** /status.json's text (status/status-builder.ts StatusBuilder); without it, / and /status.json answer 404. */
  status?: { json(): string };
}

export interface HttpService {
  /** The bound port (useful with port 0). */
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the server; rejects with E_CONFIG naming host:port when it cannot listen (port taken, bad host). */
export async function startHttp(options: HttpOptions): Promise<HttpService> {
  const { metrics, readiness, stallMs = 0, status } = options;
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/metrics':
        metrics.metrics().then(
          (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
          (e: unknown) => json(res, 500, { error: `cannot collect metrics: ${(e as Error).message}` }),
        );
        return;
      case '/health': {
        // Answering at all shows the event loop runs; the beat shows the main loop is not wedged in a promise.
        const silentMs = Date.now() - readiness.lastBeatMs;
        if (stallMs > 0 && silentMs > stallMs) json(res, 503, { status: 'stalled', silent_ms: silentMs });
        else json(res, 200, { status: 'ok', uptime_seconds: Math.round(process.uptime()) });
        return;
      }
      case '/ready': {
        const reasons = readiness.reasons();
        json(res, reasons.length === 0 ? 200 : 503, { ready: reasons.length === 0, reasons });
        return;
      }
      case '/':
      case '/index.html': {
        if (status === undefined) break;
        const page = statusPage();
        if (page === null) {
          json(res, 503, { error: 'the status page is not built: run `npm run build` (it writes dist/web/status/index.html)' });
          return;
        }
        if (req.headers['if-none-match'] === page.etag) {
          res.writeHead(304, { etag: page.etag }).end();
          return;
        }
        const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
        const body = gzip ? page.gzip : page.html;
        res
          .writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'content-length': body.length,
            etag: page.etag,
            'cache-control': 'no-cache',
            vary: 'accept-encoding',
            // the page loads nothing from elsewhere: everything it needs is inlined
            'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
            ...(gzip ? { 'content-encoding': 'gzip' } : {}),
          })
          .end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      case '/status.json': {
        if (status === undefined) break;
        let text: string;
        try {
          text = status.json();
        } catch (e) {
          json(res, 500, { error: `cannot build the status: ${(e as Error).message}` });
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text);
        return;
      }
    }
    json(res, 404, { error: `no such endpoint: ${path}; try ${status === undefined ? '' : '/ (the status page), /status.json, '}/metrics, /health or /ready` });
  });
  server.keepAliveTimeout = 65_000; // longer than a Prometheus scrape interval, so scrapes reuse the connection
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new LuxError('E_CONFIG', `http.host/http.port: cannot listen on ${options.host}:${options.port}: ${e.code ?? e.message}`, { cause: e })),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}
