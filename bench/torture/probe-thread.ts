// The overload run's prober thread: asks the daemon's /ready and /metrics off the run's main thread, which is busy producing the input at three times the daemon's capacity.
import { parentPort } from 'node:worker_threads';

/** What one probe found: /ready's status (0: unanswered) and reasons, and the /metrics text. */
export interface ProbeAnswer {
  ready: number;
  why: string;
  metrics: string;
}

/** Each probe waits at most this long for each endpoint. */
const ANSWER_TIMEOUT_MS = 3000;

async function probe(url: string): Promise<ProbeAnswer> {
  try {
    const r = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) });
    const body = (await r.json()) as { reasons?: string[] };
    const m = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) });
    return { ready: r.status, why: (body.reasons ?? []).join('; '), metrics: await m.text() };
  } catch (err) {
    return { ready: 0, why: `unanswered: ${(err as Error).message}`, metrics: '' };
  }
}

parentPort?.on('message', (url: string) => {
  void probe(url).then((answer) => parentPort?.postMessage(answer));
});
