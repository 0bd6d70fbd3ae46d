// The local broker's SASL_SSL listener with kafka.security's librdkafka properties: SCRAM-SHA-256/512 and PLAIN transactions round-trip over TLS; a wrong password and an unknown CA fail with librdkafka's own reason.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Kafka from 'node-rdkafka';
import type { LibrdKafkaError, Message } from 'node-rdkafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startLocalBroker, stopBroker, type BrokerOptions, type LocalBroker } from '../../src/kafka-local/broker.js';
import { securityFailure, securityProperties, type KafkaProperties } from '../../src/kafka/security.js';
import { consumeAll, produceFrames, uniqueTopic } from '../kafka-helpers.js';
import { daemonTopics, expectedRecords, makeFrames, sleep, startDaemon, writeConfig } from '../pipeline/daemon-harness.js';

/** This file's own broker (LUX's tests: 19500–19599): PLAINTEXT 19520, controller 19521, SASL_SSL 19522. */
const BROKER: BrokerOptions = {
  port: 19520,
  // fixed, so a second run finds the broker's SCRAM credentials as formatted and keeps its data
  saslSsl: { users: [{ username: 'lux', password: 'lux-test-secret-7' }] },
  progress: (l) => process.stderr.write(`[secure-broker] ${l}\n`),
};

let broker: LocalBroker;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-secure-'));

/** kafka.security as an operator writes it, the password in a file as systemd's LoadCredential= leaves it. */
/** `caFile` null: no tls section, so the system's CA store, which does not know the test CA. */
function clientProperties(mechanism: string, password: string, caFile: string | null = broker.saslSsl!.caFile): KafkaProperties {
  const passwordFile = path.join(dir, `password-${randomUUID()}`);
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const yaml = [
    'refdata: { dir: /tmp }',
    'kafka:',
    `  brokers: "${broker.saslSsl!.bootstrap}"`,
    '  security:',
    '    protocol: sasl_ssl',
    ...(caFile === null ? [] : ['    tls:', `      ca_file: ${caFile}`]),
    '    sasl:',
    `      mechanism: ${mechanism}`,
    '      username: lux',
    `      password_file: ${passwordFile}`,
  ].join('\n');
  return { 'bootstrap.servers': broker.saslSsl!.bootstrap, ...securityProperties(parseConfig(yaml, 'lux.yaml', {}).kafka.security) };
}

function call(what: string, fn: (cb: (err: LibrdKafkaError | null | undefined) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(new Error(`${what}: ${err.message}`)) : resolve())));
}

/** Creates a topic, produces `n` records in one committed transaction and reads them back read_committed, all over SASL_SSL. */
async function roundTrip(props: KafkaProperties, n: number): Promise<string[]> {
  const topic = uniqueTopic('lux-secure');
  const admin = Kafka.AdminClient.create({ ...props, 'client.id': 'lux-secure-admin' });
  await call('create topic', (cb) => admin.createTopic({ topic, num_partitions: 1, replication_factor: 1 }, 15_000, cb));
  admin.disconnect();
  const producer = new Kafka.Producer({ ...props, 'transactional.id': `lux-secure-${randomUUID()}`, dr_cb: false });
  await call('connect', (cb) => producer.connect({ timeout: 15_000 }, cb));
  try {
    await call('initTransactions', (cb) => producer.initTransactions(15_000, cb));
    await call('beginTransaction', (cb) => producer.beginTransaction(cb));
    for (let i = 0; i < n; i++) producer.produce(topic, 0, Buffer.from(`record-${i}`), String(i));
    await call('commitTransaction', (cb) => producer.commitTransaction(15_000, cb));
  } finally {
    await new Promise<void>((r) => producer.disconnect(5000, () => r()));
  }
  const consumer = new Kafka.KafkaConsumer({ ...props, 'group.id': `lux-secure-${randomUUID()}`, 'isolation.level': 'read_committed', 'enable.auto.commit': false }, { 'auto.offset.reset': 'earliest' });
  await call('connect consumer', (cb) => consumer.connect({ timeout: 15_000 }, cb));
  try {
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    consumer.setDefaultConsumeTimeout(200);
    const got: string[] = [];
    const deadline = Date.now() + 30_000;
    while (got.length < n && Date.now() < deadline) {
      const batch = await new Promise<Message[]>((resolve, reject) => consumer.consume(100, (err, m) => (err ? reject(err) : resolve(m))));
      for (const m of batch) got.push(m.value?.toString() ?? '');
    }
    return got;
  } finally {
    await new Promise<void>((r) => consumer.disconnect(() => r()));
  }
}

/** Tries to connect; resolves to connect()'s error and the reason librdkafka logged (its FAIL line). */
async function refusal(props: KafkaProperties): Promise<{ connectError: string; reason: string | undefined }> {
  const producer = new Kafka.Producer({ ...props, event_cb: true, log_level: 3 });
  let reason: string | undefined;
  producer.on('event.log', (l: { message: string }) => (reason ??= securityFailure(l.message)));
  const err = await new Promise<string>((resolve) => producer.connect({ timeout: 8000 }, (e) => resolve(e ? e.message : 'connected')));
  if (err === 'connected') await new Promise<void>((r) => producer.disconnect(5000, () => r()));
  return { connectError: err, reason };
}

describe('the local broker with a SASL_SSL listener', () => {
  beforeAll(async () => {
    broker = await startLocalBroker(BROKER);
  }, 180_000);

  const sharedBrokers = process.env.LUX_KAFKA_BROKERS;
  afterAll(async () => {
    process.env.LUX_KAFKA_BROKERS = sharedBrokers;
    await stopBroker(BROKER);
  });

  it('tells where the listener is, its CA and its users', () => {
    expect(broker.saslSsl?.bootstrap).toBe('127.0.0.1:19522');
    expect(fs.readFileSync(broker.saslSsl!.caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(broker.saslSsl?.mechanisms).toEqual(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
    expect(broker.saslSsl?.users).toEqual(BROKER.saslSsl?.users);
  });

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN']) {
    it(`a transaction round-trips over TLS with ${mechanism} (hostname verified against the test CA)`, async () => {
      const props = clientProperties(mechanism, broker.saslSsl!.users[0]!.password);
      expect(props['ssl.endpoint.identification.algorithm']).toBe('https');
      expect(await roundTrip(props, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `record-${i}`));
    });
  }

  it('a wrong password is refused, and librdkafka says it was the credentials', async () => {
    const r = await refusal(clientProperties('SCRAM-SHA-512', 'not-the-password'));
    expect(r.connectError).toMatch(/transport failure|timed out/i);
    expect(r.reason).toBe('SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512');
  });

  it('a broker certificate the configured CA did not sign is refused as such', async () => {
    const r = await refusal(clientProperties('SCRAM-SHA-256', broker.saslSsl!.users[0]!.password, null));
    expect(r.reason).toMatch(/^SSL handshake failed: .*certificate verify failed/);
  });

  it('lux run over SASL_SSL with SCRAM-SHA-512: every record once through a SIGKILL and a restart', async () => {
    // Topics are made over PLAINTEXT (the helpers); the daemon itself only gets the SASL_SSL listener.
    process.env.LUX_KAFKA_BROKERS = broker.bootstrap;
    const topics = await daemonTopics('secure-eo');
    const first = makeFrames(1500, { badEvery: 100 });
    const second = makeFrames(1500, { badEvery: 100, seqBase: 1500 });
    await produceFrames(topics.raw, first);
    const expected = expectedRecords([...first, ...second]);
    const passwordFile = path.join(dir, 'daemon-password');
    fs.writeFileSync(passwordFile, `${broker.saslSsl!.users[0]!.password}\n`, { mode: 0o600 });
    const security = [
      '  security:',
      '    protocol: sasl_ssl',
      `    tls: { ca_file: ${broker.saslSsl!.caFile} }`,
      `    sasl: { mechanism: SCRAM-SHA-512, username: lux, password_file: ${passwordFile} }`,
    ].join('\n');
    const config = writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t` });
    // the harness writes `brokers: "<plaintext>"` on the line after `kafka:`: point it at SASL_SSL and add kafka.security
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(`brokers: "${broker.bootstrap}"`, `brokers: "${broker.saslSsl!.bootstrap}"\n${security}`));
    // the daemon's LUX_KAFKA_BROKERS (it overrides kafka.brokers) is the SASL_SSL listener too
    const daemonOn = (file: string) => {
      const saved = process.env.LUX_KAFKA_BROKERS;
      process.env.LUX_KAFKA_BROKERS = broker.saslSsl!.bootstrap;
      try {
        return startDaemon(file);
      } finally {
        process.env.LUX_KAFKA_BROKERS = saved;
      }
    };
    const d1 = daemonOn(config);
    await consumeAll(topics.enriched, { isolation: 'read_committed', expected: 100, timeoutMs: 60_000 });
    d1.child.kill('SIGKILL');
    await d1.exited;
    await produceFrames(topics.raw, second);
    const d2 = daemonOn(config);
    try {
      await consumeAll(topics.enriched, { isolation: 'read_committed', expected: expected.length, timeoutMs: 90_000 });
      await sleep(1500);
      const all = await consumeAll(topics.enriched, { isolation: 'read_committed', timeoutMs: 30_000 });
      expect(all.length, d2.output().slice(-3000)).toBe(expected.length);
      expect(all.map((m) => m.value?.toString() ?? '').sort()).toEqual([...expected].sort());
      expect(d2.output()).not.toContain(broker.saslSsl!.users[0]!.password);
    } finally {
      d2.child.kill('SIGTERM');
      await d2.exited;
    }
  });
});
