// Vitest global setup: compiles dist (and the native addon) once before any test file runs (tests start daemons and worker threads from it), gives every test process LUX_KAFKA_BROKERS, starting the local broker when none is named, and stops only a broker it started.
import { execFileSync } from 'node:child_process';
import { brokerStatus, startBroker, stopBroker } from '../src/kafka-local/broker.js';
import { ROOT } from '../src/paths.js';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  // `npm test` has just built everything. Run directly (`npx vitest run test/...`), the compiled JS is brought up to
  // date here, once: test files that each ran tsc in their beforeAll rewrote dist while other files' daemons were
  // loading it ("does not provide an export named …", a CI run).
  if (process.env.npm_lifecycle_event !== 'test') {
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
    } catch {
      /* emitted anyway (errors elsewhere in the tree do not stop tsc from emitting); a real break fails its tests */
    }
    // the native batch produce for this Node (a no-op when up to date; a failure shows in its own test)
    try {
      execFileSync(process.execPath, ['native/build.mjs'], { cwd: ROOT, stdio: 'ignore' });
    } catch {
      /* test/sink/native-produce.test.ts says why */
    }
  }
  if (process.env.LUX_KAFKA_BROKERS !== undefined && process.env.LUX_KAFKA_BROKERS !== '') return undefined;
  const before = await brokerStatus();
  if (before.ready) {
    // A broker someone else runs (another shell, CI, a colleague's tests): use it, leave it running.
    process.env.LUX_KAFKA_BROKERS = before.bootstrap;
    return undefined;
  }
  // A lux broker that is still starting belongs to whoever started it: wait for it, never stop it.
  const ours = before.pid === undefined && !before.external;
  const t0 = Date.now();
  process.env.LUX_KAFKA_BROKERS = await startBroker({ progress: (l) => process.stderr.write(`[global-setup] ${l}\n`) });
  process.stderr.write(`[global-setup] local broker ${process.env.LUX_KAFKA_BROKERS} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  if (!ours) return undefined;
  return async () => {
    await stopBroker({ progress: (l) => process.stderr.write(`[global-setup] ${l}\n`) });
  };
}
