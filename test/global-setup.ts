// Vitest global setup: gives every test process LUX_KAFKA_BROKERS, starting the local broker when none is named, and stops only a broker it started.
import { brokerStatus, startBroker, stopBroker } from '../src/kafka-local/broker.js';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
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
