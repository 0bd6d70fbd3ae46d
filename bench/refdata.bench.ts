// Benchmark: live reference data with 1,000,000 equipment and 100,000 error codes — initial load, snapshot memory, produced → visible latency of topic updates, main-thread stalls.
//
// Run: npx tsc -p tsconfig.json && LUX_KAFKA_BROKERS=127.0.0.1:9092 node --expose-gc dist/bench/refdata.bench.js [equipmentCount] [errorCodes]
// Without LUX_KAFKA_BROKERS only the CSV load is measured. Targets (issue 5): load ≤ 5 s, snapshot ≤ 200 MB, visible ≤ 1 s.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connectClient, createProducer, kafkaConnection, type KafkaProducer } from '../src/kafka/client.js';
import { createTopics } from '../src/kafka/topics.js';
import { createLogger } from '../src/service/logger.js';
import { RefdataService } from '../src/enrich/refdata-service.js';
import { openReference } from '../src/enrich/reference.js';

const equipmentCount = Number(process.argv[2] ?? 1_000_000);
const errorCodeCount = Number(process.argv[3] ?? 100_000);
const brokers = process.env.LUX_KAFKA_BROKERS;
const VENDORS = 40;

function writeCsv(dir: string): void {
  const lines = ['equipment_id,name,model,vendor_id,site,region'];
  for (let i = 0; i < equipmentCount; i++) {
    lines.push(`${1 + i * 3},ENB-${String(i).padStart(7, '0')},AirScale-${i % 20},v${i % VENDORS},SITE-${i >> 2},Region ${i % 13}`);
  }
  fs.writeFileSync(path.join(dir, 'equipment.csv'), `${lines.join('\n')}\n`);
  const v = ['vendor_id,name'];
  for (let i = 0; i < VENDORS; i++) v.push(`v${i},Vendor ${i}`);
  fs.writeFileSync(path.join(dir, 'vendors.csv'), `${v.join('\n')}\n`);
  const e = ['vendor_id,cause_code,label,severity,category'];
  for (let i = 0; i < errorCodeCount; i++) e.push(`v${i % VENDORS},${1 + Math.floor(i / VENDORS)},"cause ${i}, vendor ${i % VENDORS}",major,radio`);
  fs.writeFileSync(path.join(dir, 'error_codes.csv'), `${e.join('\n')}\n`);
  const iv = ['ticket,equipment_id,kind,start,end'];
  for (let k = 0; k < 10_000; k++) iv.push(`CHG-${k},${1 + ((k * 97) % equipmentCount) * 3},repair,2024-01-01T00:00:00Z,2024-01-02T00:00:00Z`);
  fs.writeFileSync(path.join(dir, 'interventions.csv'), `${iv.join('\n')}\n`);
}

async function makeTopic(topic: string): Promise<KafkaProducer> {
  const conn = kafkaConnection(brokers as string);
  await createTopics(conn, [{ name: topic, partitions: 1, compacted: true }], 10_000, 'lux-refdata-bench');
  const producer = createProducer(conn, 'lux-refdata-bench', { 'linger.ms': 5 });
  await connectClient(producer, 'producer', 'producer', conn.brokers, 30_000);
  producer.setPollInterval(10);
  return producer;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-refdata-bench-'));
writeCsv(dir);
const topic = `lux-refdata-bench-${Date.now().toString(36)}`;
const producer = brokers === undefined ? undefined : await makeTopic(topic);

const log = createLogger('warn');
const service = new RefdataService({ dir, watch: false, brokers: producer && brokers, topic: producer && topic, log });
const stalls = monitorEventLoopDelay({ resolution: 1 });
stalls.enable();
// the CSV text generated above is garbage now: collect it before measuring (run with --expose-gc)
(globalThis as { gc?: () => void }).gc?.();
const rss0 = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await service.start();
const loadMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const v = service.current();
const mib = (v.base.byteLength + (v.overlay?.byteLength ?? 0)) / 1048576;
console.log(
  `initial load: ${equipmentCount} equipment + ${errorCodeCount} error codes + 10000 interventions: ${(loadMs / 1000).toFixed(2)} s wall, ` +
    `${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU (all threads); snapshot ${mib.toFixed(1)} MiB (SharedArrayBuffer); ` +
    `RSS +${((process.memoryUsage().rss - rss0) / 1048576).toFixed(0)} MiB (builder thread's live tables included); main-thread stall max ${(stalls.max / 1e6).toFixed(1)} ms during load; longest service callback ${service.counters.longestCallbackMs.toFixed(1)} ms`,
);

if (producer !== undefined) {
  stalls.reset();
  const lags: number[] = [];
  for (let k = 0; k < 20; k++) {
    const id = 1 + ((k * 49_999) % equipmentCount) * 3;
    const name = `live-${k}`;
    const before = service.counters.version;
    producer.produce(topic, null, Buffer.from(JSON.stringify({ name, vendor_id: `v${k % VENDORS}` })), `equipment:${id}`, Date.now());
    for (;;) {
      const now = service.current();
      if (now.version > before && JSON.parse(openReference(now.base, now.overlay).equipmentJson(id)).name === name) break;
      await service.nextVersion(now.version);
    }
    lags.push(service.counters.lastUpdateLagMs);
    await new Promise((r) => setTimeout(r, 100));
  }
  lags.sort((a, b) => a - b);
  console.log(
    `one-row update, produced (CreateTime) → visible in a new version on the main thread, 20 updates: median ${lags[10]} ms, max ${lags[19]} ms; ` +
      `overlay ${service.counters.overlayRows} rows; main-thread stall max ${(stalls.max / 1e6).toFixed(1)} ms; longest service callback ${service.counters.longestCallbackMs.toFixed(1)} ms`,
  );

  // a burst of 60,000 updates: overlay past its merge threshold, so a sliced base rebuild runs while overlays keep coming
  stalls.reset();
  const burst = 60_000;
  const b0 = performance.now();
  const basesBefore = service.counters.bases;
  for (let k = 0; k < burst; k++) {
    // the bench's own producing yields every 500 messages, so the stall figure is the service's
    if (k % 500 === 499) await new Promise((r) => setImmediate(r));
    for (;;) {
      try {
        producer.produce(topic, null, Buffer.from(`{"name":"burst-${k}"}`), `equipment:${1 + k * 3}`, Date.now());
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }
  const lastId = 1 + (burst - 1) * 3;
  for (;;) {
    const now = service.current();
    if (JSON.parse(openReference(now.base, now.overlay).equipmentJson(lastId)).name === `burst-${burst - 1}`) break;
    await service.nextVersion(now.version);
  }
  const burstMs = performance.now() - b0;
  // then one more update while the merge may still run
  const id = 7;
  producer.produce(topic, null, Buffer.from('{"name":"after-burst"}'), `equipment:${id}`, Date.now());
  for (;;) {
    const now = service.current();
    if (JSON.parse(openReference(now.base, now.overlay).equipmentJson(id)).name === 'after-burst') break;
    await service.nextVersion(now.version);
  }
  const afterLag = service.counters.lastUpdateLagMs;
  // wait for the merge to land
  const m0 = performance.now();
  while (service.counters.bases === basesBefore && performance.now() - m0 < 30_000) await service.nextVersion();
  console.log(
    `burst of ${burst} updates: all visible after ${burstMs.toFixed(0)} ms; a one-row update right after: ${afterLag} ms; ` +
      `bases built since: ${service.counters.bases - basesBefore}; overlay now ${service.counters.overlayRows} rows; main-thread stall max ${(stalls.max / 1e6).toFixed(1)} ms; longest service callback ${service.counters.longestCallbackMs.toFixed(1)} ms`,
  );
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
}
stalls.disable();
await service.stop();
fs.rmSync(dir, { recursive: true, force: true });
