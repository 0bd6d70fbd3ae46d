// The local development broker: `lux kafka start | stop | status` runs one Apache Kafka KRaft node (broker+controller, 4.x by default, 3.x on request) on 127.0.0.1 under STATE_DIR, optionally with a SASL_SSL listener.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as RdKafka from 'node-rdkafka';
import { LuxError } from '../errors.js';
import { ROOT, STATE_DIR } from '../paths.js';
import { assembleLibs, defaultKafkaVersion, kafkaVersion, majorOf, requireTool } from './assembly.js';
import { tlsMaterial } from './tls-material.js';

/** A user of the SASL_SSL listener: the same name and password for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
export interface BrokerUser {
  username: string;
  password: string;
}

/** A SASL_SSL listener beside the PLAINTEXT one (which the readiness probe and the test helpers keep using). */
export interface SaslSslOptions {
  /** its port on 127.0.0.1 (default: the PLAINTEXT port + 2) */
  port?: number;
  /** users made at start (default: one user `lux` with a generated password, the same across restarts) */
  users?: BrokerUser[];
}

/** What a client needs to reach the SASL_SSL listener. */
export interface SaslSslListener {
  bootstrap: string;
  /** the CA certificate that signed the broker's (librdkafka's ssl.ca.location) */
  caFile: string;
  /** mechanisms the listener accepts */
  mechanisms: readonly string[];
  users: readonly BrokerUser[];
}

/** A started (or found) local broker. */
export interface LocalBroker {
  /** host:port of the PLAINTEXT listener */
  bootstrap: string;
  /** the Kafka version it runs */
  version: string;
  saslSsl: SaslSslListener | undefined;
}

/** Everything `startBroker` can be told; unset fields take BROKER_DEFAULTS or the LUX_KAFKA_* environment. */
export interface BrokerOptions {
  /** PLAINTEXT client port on 127.0.0.1 (env LUX_KAFKA_PORT). */
  port?: number;
  /** KRaft controller port on 127.0.0.1 (env LUX_KAFKA_CONTROLLER_PORT; default port + 1). */
  controllerPort?: number;
  /** How long `start` waits for a broker that accepts a transaction. */
  readyTimeoutMs?: number;
  /** Maximum Java heap in MiB. */
  heapMb?: number;
  /** An unpacked Kafka distribution whose libs/ is used instead of Maven (env LUX_KAFKA_HOME), when it holds the version. */
  kafkaHome?: string;
  /** The Apache Kafka version (env LUX_KAFKA_VERSION; default kafka/pom.xml's): 3.x and 4.x both run in KRaft mode. */
  version?: string;
  /** Adds a SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with a CA and certificate made at start. */
  saslSsl?: SaslSslOptions;
  /** Where progress lines go (default: stderr). */
  progress?: (line: string) => void;
}

/** What is known about the broker on the configured port. */
export interface BrokerStatus {
  /** host:port for bootstrap.servers. */
  bootstrap: string;
  /** pid of the broker lux started, or undefined when none is running. */
  pid: number | undefined;
  /** A client could create a topic and commit a transaction. */
  ready: boolean;
  /** Something else (not started by lux) answers on the port. */
  external: boolean;
}

export const BROKER_DEFAULTS = {
  host: '127.0.0.1',
  port: 9092,
  readyTimeoutMs: 90_000,
  heapMb: 512,
  stopTimeoutMs: 30_000,
  /** One readiness attempt: create the probe topic and commit one transaction. */
  probeTimeoutMs: 15_000,
  probeTopic: '__lux_probe',
  partitions: 4,
  logTailLines: 40,
  /** the SASL_SSL listener's port is the PLAINTEXT port plus this (the controller's is plus 1) */
  saslSslPortOffset: 2,
  saslMechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
  saslUser: 'lux',
} as const;

const KAFKA_DIR = path.join(STATE_DIR, 'kafka');
const LOG4J_CONFIG = path.join(ROOT, 'kafka', 'log4j2.properties');

/** Files of one broker instance; each port gets its own, so two ports never share a KRaft log. */
interface Instance {
  port: number;
  controllerPort: number;
  version: string;
  bootstrap: string;
  dir: string;
  dataDir: string;
  logsDir: string;
  config: string;
  pidFile: string;
  stdoutLog: string;
}

function envPort(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new LuxError('E_CONFIG', `${name}=${raw}: expected a TCP port between 1 and 65535`);
  }
  return n;
}

function instanceFor(opts: BrokerOptions = {}): Instance {
  const port = opts.port ?? envPort('LUX_KAFKA_PORT') ?? BROKER_DEFAULTS.port;
  const controllerPort = opts.controllerPort ?? envPort('LUX_KAFKA_CONTROLLER_PORT') ?? port + 1;
  const version = kafkaVersion(opts.version);
  // Another version gets its own data: a KRaft log written by 4.x cannot be read by 3.x.
  const dir = path.join(KAFKA_DIR, version === defaultKafkaVersion() ? `broker-${port}` : `broker-${port}-kafka-${version}`);
  return {
    port,
    controllerPort,
    version,
    bootstrap: `${BROKER_DEFAULTS.host}:${port}`,
    dir,
    dataDir: path.join(dir, 'data'),
    logsDir: path.join(dir, 'logs'),
    config: path.join(dir, 'server.properties'),
    pidFile: path.join(dir, 'broker.pid'),
    stdoutLog: path.join(dir, 'logs', 'broker.out'),
  };
}

/** The SASL_SSL listener's settings, resolved: port, users (generated password kept in the instance dir), TLS files. */
interface SaslSslSetup {
  port: number;
  users: BrokerUser[];
  caFile: string;
  keystoreFile: string;
}

function saslSslSetup(inst: Instance, o: SaslSslOptions): SaslSslSetup {
  const port = o.port ?? inst.port + BROKER_DEFAULTS.saslSslPortOffset;
  let users = o.users;
  if (users === undefined) {
    // A generated password survives restarts (the SCRAM credentials were written into the KRaft log at format time).
    const file = path.join(inst.dir, 'sasl-user-password');
    let password = readText(file)?.trim();
    if (password === undefined || password === '') {
      password = randomBytes(12).toString('hex');
      fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
    }
    users = [{ username: BROKER_DEFAULTS.saslUser, password }];
  }
  for (const u of users) {
    // Both end up inside JAAS and SCRAM option strings, where quotes, commas and brackets would break them.
    if (!/^[A-Za-z0-9._-]+$/.test(u.username) || !/^[A-Za-z0-9._~!@#%^&*+=-]+$/.test(u.password)) {
      throw new LuxError('E_BROKER_SETUP', `saslSsl user '${u.username}': names of [A-Za-z0-9._-] and passwords without quotes, commas, brackets or spaces only`);
    }
  }
  const tls = tlsMaterial(path.join(inst.dir, 'tls'));
  return { port, users, caFile: tls.caFile, keystoreFile: tls.keystoreFile };
}

/** The KRaft quorum settings: 3.9+ bootstraps a dynamic quorum (format --standalone); older 3.x names its voters. */
function dynamicQuorum(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major! > 3 || (major === 3 && minor! >= 9);
}

function serverProperties(inst: Instance, sasl: SaslSslSetup | undefined): string {
  const h = BROKER_DEFAULTS.host;
  const listeners = [`PLAINTEXT://${h}:${inst.port}`, `CONTROLLER://${h}:${inst.controllerPort}`];
  const advertised = [`PLAINTEXT://${h}:${inst.port}`];
  // 4.x advertises the controller listener too (KIP-853); 3.x refuses a controller listener in advertised.listeners.
  if (majorOf(inst.version) >= 4) advertised.push(`CONTROLLER://${h}:${inst.controllerPort}`);
  const protocols = ['CONTROLLER:PLAINTEXT', 'PLAINTEXT:PLAINTEXT'];
  if (sasl !== undefined) {
    listeners.push(`SASL_SSL://${h}:${sasl.port}`);
    advertised.push(`SASL_SSL://${h}:${sasl.port}`);
    protocols.push('SASL_SSL:SASL_SSL');
  }
  const lines = [
    '# Written by `lux kafka start` on every start; edit src/kafka-local/broker.ts instead.',
    `# Apache Kafka ${inst.version}`,
    'process.roles=broker,controller',
    'node.id=1',
    dynamicQuorum(inst.version) ? `controller.quorum.bootstrap.servers=${h}:${inst.controllerPort}` : `controller.quorum.voters=1@${h}:${inst.controllerPort}`,
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    `listener.security.protocol.map=${protocols.join(',')}`,
    `log.dirs=${inst.dataDir}`,
    // Topics are created on purpose (with their partition count), never by a typo in a producer.
    'auto.create.topics.enable=false',
    `num.partitions=${BROKER_DEFAULTS.partitions}`,
    // One node: every internal topic has one replica, so transactions and group offsets work.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    ...(majorOf(inst.version) >= 4 ? ['share.coordinator.state.topic.replication.factor=1', 'share.coordinator.state.topic.min.isr=1'] : []),
    'group.initial.rebalance.delay.ms=0',
    // A development machine has few cores: fewer threads, less contention with the tests.
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=4',
    'num.recovery.threads.per.data.dir=1',
  ];
  if (sasl !== undefined) {
    const l = 'listener.name.sasl_ssl';
    const plainUsers = sasl.users.map((u) => `user_${u.username}="${u.password}"`).join(' ');
    lines.push(
      `sasl.enabled.mechanisms=${BROKER_DEFAULTS.saslMechanisms.join(',')}`,
      `${l}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
      // SCRAM users live in the KRaft metadata (written at format time), so the login module takes no users here.
      `${l}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
      `${l}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
      `${l}.ssl.keystore.type=PEM`,
      `${l}.ssl.keystore.location=${sasl.keystoreFile}`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

function say(opts: BrokerOptions, line: string): void {
  (opts.progress ?? ((l: string) => process.stderr.write(`lux kafka: ${l}\n`)))(line);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function javaArgs(libs: string, inst: Instance, heapMb: number): string[] {
  return [
    `-Xmx${heapMb}m`,
    '-Xms128m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
    `-Dkafka.logs.dir=${inst.logsDir}`,
    '-cp',
    path.join(libs, '*'),
  ];
}

/**
 * Formats the KRaft storage once; a data directory holding meta.properties is left as it is, unless the SCRAM users
 * it was formatted with are not the ones asked for now (KRaft takes SCRAM credentials at format time: --add-scram).
 */
function formatStorage(libs: string, inst: Instance, opts: BrokerOptions, sasl: SaslSslSetup | undefined): void {
  const usersStamp = path.join(inst.dir, 'scram-users');
  const users = sasl === undefined ? '' : sasl.users.map((u) => `${u.username}:${u.password}`).sort().join('\n');
  if (fs.existsSync(path.join(inst.dataDir, 'meta.properties'))) {
    if (sasl === undefined || readText(usersStamp) === users) return;
    say(opts, `SCRAM users changed: formatting ${inst.dataDir} again (its topics are dropped)`);
    fs.rmSync(inst.dataDir, { recursive: true, force: true });
    fs.mkdirSync(inst.dataDir, { recursive: true });
  }
  const base = javaArgs(libs, inst, 256);
  const id = spawnSync('java', [...base, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' });
  const clusterId = id.stdout?.trim().split('\n').pop() ?? '';
  if (id.status !== 0 || clusterId === '') {
    throw new LuxError('E_BROKER_SETUP', `kafka.tools.StorageTool random-uuid failed (exit ${id.status}): ${id.stderr?.trim()}`);
  }
  const scram = (sasl?.users ?? []).flatMap((u) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${u.username},password=${u.password}]`]),
  );
  const quorum = dynamicQuorum(inst.version) ? ['--standalone'] : [];
  const fmt = spawnSync('java', [...base, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', inst.config, ...quorum, ...scram], {
    encoding: 'utf8',
  });
  if (fmt.status !== 0) {
    throw new LuxError('E_BROKER_SETUP', `kafka.tools.StorageTool format -c ${inst.config} failed (exit ${fmt.status}): ${`${fmt.stdout}${fmt.stderr}`.trim()}`);
  }
  fs.writeFileSync(usersStamp, users, { mode: 0o600 });
  say(opts, `formatted KRaft storage in ${inst.dataDir} (cluster ${clusterId}, Kafka ${inst.version})`);
}

/** The pid from the pid file when that process is alive and is this instance's broker; a stale pid file is removed. */
function livePid(inst: Instance): number | undefined {
  const raw = readText(inst.pidFile);
  if (raw === undefined) return undefined;
  const pid = Number(raw.trim());
  if (Number.isInteger(pid) && pid > 0 && isOurBroker(pid, inst)) return pid;
  fs.rmSync(inst.pidFile, { force: true });
  return undefined;
}

function isOurBroker(pid: number, inst: Instance): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A recycled pid belongs to some other program: only a java running this instance's config is ours.
  const cmdline = readText(`/proc/${pid}/cmdline`);
  if (cmdline === undefined) return true; // no procfs: trust the signal check
  const args = cmdline.split('\0');
  return args.includes('kafka.Kafka') && args.includes(inst.config);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: BROKER_DEFAULTS.host, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let rdkafka: typeof RdKafka | undefined;
/** node-rdkafka loads once per process and only on the main thread; `lux kafka stop` never needs it. */
function loadRdKafka(): typeof RdKafka {
  rdkafka ??= createRequire(import.meta.url)('node-rdkafka') as typeof RdKafka;
  return rdkafka;
}

function rdError(step: string, err: RdKafka.LibrdKafkaError | Error): LuxError {
  return new LuxError('E_KAFKA', `readiness probe: ${step}: ${err.message}`, { cause: err });
}

/** Ready means what LUX needs: a topic can be created and a transaction committed. Throws on the first failing step. */
export async function probeBroker(bootstrap: string, timeoutMs: number = BROKER_DEFAULTS.probeTimeoutMs): Promise<void> {
  const Kafka = loadRdKafka();
  const admin = Kafka.AdminClient.create({ 'bootstrap.servers': bootstrap, 'client.id': 'lux-probe', log_level: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      admin.createTopic(
        { topic: BROKER_DEFAULTS.probeTopic, num_partitions: 1, replication_factor: 1 },
        timeoutMs,
        (err) => (err && err.code !== Kafka.CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS ? reject(rdError('create topic', err)) : resolve()),
      );
    });
  } finally {
    admin.disconnect();
  }

  const producer = new Kafka.Producer({
    'bootstrap.servers': bootstrap,
    'client.id': 'lux-probe',
    'transactional.id': `lux-probe-${process.pid}`,
    dr_cb: false,
    log_level: 0,
  });
  await new Promise<void>((resolve, reject) => {
    producer.connect({ timeout: timeoutMs }, (err) => (err ? reject(rdError('connect', err)) : resolve()));
  });
  try {
    const step = (name: string, fn: (cb: (err: RdKafka.LibrdKafkaError) => void) => void): Promise<void> =>
      new Promise((resolve, reject) => fn((err) => (err ? reject(rdError(name, err)) : resolve())));
    await step('initTransactions', (cb) => producer.initTransactions(timeoutMs, cb));
    await step('beginTransaction', (cb) => producer.beginTransaction(cb));
    producer.produce(BROKER_DEFAULTS.probeTopic, 0, Buffer.from('ready'), 'probe');
    await step('commitTransaction', (cb) => producer.commitTransaction(timeoutMs, cb));
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(5000, () => resolve()));
  }
}

async function isReady(bootstrap: string, port: number, timeoutMs: number): Promise<boolean> {
  if (!(await portOpen(port))) return false;
  try {
    await probeBroker(bootstrap, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

function logTail(inst: Instance): string {
  const parts: string[] = [];
  for (const file of [inst.stdoutLog, path.join(inst.logsDir, 'kafka.log')]) {
    const text = readText(file);
    if (text === undefined || text.trim() === '') continue;
    const lines = text.trimEnd().split('\n').slice(-BROKER_DEFAULTS.logTailLines);
    parts.push(`--- last lines of ${file} ---\n${lines.join('\n')}`);
  }
  return parts.length === 0 ? '(the broker wrote no log)' : parts.join('\n');
}

/**
 * Starts the local broker unless one is already running and ready; resolves to its bootstrap address once a
 * transaction can be committed. Idempotent: a ready broker (ours or another on the port) is reported, not started twice.
 */
export async function startBroker(opts: BrokerOptions = {}): Promise<string> {
  return (await startLocalBroker(opts)).bootstrap;
}

/** Like startBroker, and tells the version and (with `saslSsl`) how to reach the SASL_SSL listener: address, CA, users. */
export async function startLocalBroker(opts: BrokerOptions = {}): Promise<LocalBroker> {
  const inst = instanceFor(opts);
  const readyTimeoutMs = opts.readyTimeoutMs ?? BROKER_DEFAULTS.readyTimeoutMs;
  const probeMs = Math.min(BROKER_DEFAULTS.probeTimeoutMs, readyTimeoutMs);
  if (opts.saslSsl !== undefined) fs.mkdirSync(inst.dir, { recursive: true });
  const sasl = opts.saslSsl === undefined ? undefined : saslSslSetup(inst, opts.saslSsl);
  const result = (): LocalBroker => ({
    bootstrap: inst.bootstrap,
    version: inst.version,
    saslSsl:
      sasl === undefined
        ? undefined
        : { bootstrap: `${BROKER_DEFAULTS.host}:${sasl.port}`, caFile: sasl.caFile, mechanisms: BROKER_DEFAULTS.saslMechanisms, users: sasl.users },
  });

  const running = livePid(inst);
  if (running !== undefined) {
    if (sasl !== undefined && !readText(inst.config)?.includes(`SASL_SSL://${BROKER_DEFAULTS.host}:${sasl.port}`)) {
      throw new LuxError('E_BROKER_SETUP', `the broker on ${inst.bootstrap} (pid ${running}) runs without a SASL_SSL listener on port ${sasl.port}; stop it first`);
    }
    if (await isReady(inst.bootstrap, inst.port, probeMs)) {
      say(opts, `broker already running (pid ${running}) on ${inst.bootstrap}`);
      return result();
    }
    // Ours but not (yet) ready: perhaps still starting; wait for it rather than start a second one.
    say(opts, `broker pid ${running} is running but not ready; waiting for it`);
    await waitReady(inst, running, readyTimeoutMs, probeMs, Date.now(), opts);
    return result();
  }
  if (await portOpen(inst.port)) {
    if (sasl === undefined && (await isReady(inst.bootstrap, inst.port, probeMs))) {
      say(opts, `a broker not started by lux is ready on ${inst.bootstrap}; using it`);
      return result();
    }
    throw new LuxError('E_BROKER_SETUP', `port ${inst.port} on ${BROKER_DEFAULTS.host} is in use by something that is not a ready Kafka broker started by lux; set LUX_KAFKA_PORT to another port`);
  }

  requireTool('java', '-version', 'a Java 17+ runtime');
  const { libs, version } = assembleLibs({ version: opts.version, kafkaHome: opts.kafkaHome, progress: (l) => say(opts, l) });
  inst.version = version;
  fs.mkdirSync(inst.dataDir, { recursive: true });
  fs.mkdirSync(inst.logsDir, { recursive: true });
  fs.writeFileSync(inst.config, serverProperties(inst, sasl));
  formatStorage(libs, inst, opts, sasl);

  const t0 = Date.now();
  const out = fs.openSync(inst.stdoutLog, 'a');
  const child = spawn('java', [...javaArgs(libs, inst, opts.heapMb ?? BROKER_DEFAULTS.heapMb), 'kafka.Kafka', inst.config], {
    detached: true, // its own process group: it outlives this command and `stop` can signal the whole group
    stdio: ['ignore', out, out],
    cwd: inst.dir,
  });
  fs.closeSync(out);
  const pid = child.pid;
  if (pid === undefined) {
    throw new LuxError('E_BROKER_SETUP', `could not start java: ${logTail(inst)}`);
  }
  child.unref();
  fs.writeFileSync(inst.pidFile, `${pid}\n`);
  say(opts, `started Kafka ${inst.version} broker pid ${pid}; waiting up to ${seconds(readyTimeoutMs)} for it to accept a transaction`);
  await waitReady(inst, pid, readyTimeoutMs, probeMs, t0, opts);
  return result();
}

async function waitReady(inst: Instance, pid: number, readyTimeoutMs: number, probeMs: number, t0: number, opts: BrokerOptions): Promise<void> {
  const deadline = t0 + readyTimeoutMs;
  let lastError = 'the client port never opened';
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      fs.rmSync(inst.pidFile, { force: true });
      throw new LuxError('E_BROKER_SETUP', `the broker (pid ${pid}) exited during start-up\n${logTail(inst)}`);
    }
    if (await portOpen(inst.port)) {
      try {
        await probeBroker(inst.bootstrap, Math.max(1000, Math.min(probeMs, deadline - Date.now())));
        say(opts, `broker ready on ${inst.bootstrap} after ${seconds(Date.now() - t0)}`);
        return;
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    await sleep(500);
  }
  throw new LuxError('E_BROKER_SETUP', `the broker (pid ${pid}) was not ready within ${seconds(readyTimeoutMs)} (${lastError}); it is left running, \`lux kafka stop\` ends it\n${logTail(inst)}`);
}

/**
 * Stops the broker lux started (pid file): SIGTERM to its process group, SIGKILL after a timeout; with `crash`, SIGKILL
 * at once (a broker that dies mid-request, for outage tests). Resolves true if one was stopped.
 */
export async function stopBroker(opts: BrokerOptions = {}, how: { crash?: boolean } = {}): Promise<boolean> {
  const inst = instanceFor(opts);
  const pid = livePid(inst);
  if (pid === undefined) return false;
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig); // the group: java and anything it forked
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  const t0 = Date.now();
  signal(how.crash === true ? 'SIGKILL' : 'SIGTERM');
  while (isAlive(pid) && Date.now() - t0 < BROKER_DEFAULTS.stopTimeoutMs) await sleep(how.crash === true ? 20 : 200);
  if (isAlive(pid)) {
    say(opts, `broker pid ${pid} ignored SIGTERM for ${seconds(BROKER_DEFAULTS.stopTimeoutMs)}; sending SIGKILL`);
    signal('SIGKILL');
    while (isAlive(pid)) await sleep(100);
  }
  fs.rmSync(inst.pidFile, { force: true });
  say(opts, `stopped broker pid ${pid} in ${seconds(Date.now() - t0)}`);
  return true;
}

/** The bootstrap address, the pid lux started (if any) and whether a client can commit a transaction there. */
export async function brokerStatus(opts: BrokerOptions = {}): Promise<BrokerStatus> {
  const inst = instanceFor(opts);
  const pid = livePid(inst);
  const open = await portOpen(inst.port);
  const ready = open && (await isReady(inst.bootstrap, inst.port, BROKER_DEFAULTS.probeTimeoutMs));
  return { bootstrap: inst.bootstrap, pid, ready, external: pid === undefined && open };
}

const USAGE = 'usage: lux kafka start | stop | status   (env: LUX_KAFKA_PORT, LUX_KAFKA_CONTROLLER_PORT, LUX_KAFKA_HOME, LUX_KAFKA_VERSION)';

/** `lux kafka <start|stop|status>`; resolves to the exit code. The bootstrap address is the last line on stdout. */
export async function kafkaCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (rest.length > 0 || (sub !== 'start' && sub !== 'stop' && sub !== 'status')) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    switch (sub) {
      case 'start': {
        const bootstrap = await startBroker();
        process.stdout.write(`${bootstrap}\n`);
        return 0;
      }
      case 'stop': {
        if (!(await stopBroker())) process.stderr.write('lux kafka: no broker started by lux is running\n');
        return 0;
      }
      case 'status': {
        const s = await brokerStatus();
        const who = s.pid !== undefined ? `pid ${s.pid}` : s.external ? 'not started by lux' : 'not running';
        process.stdout.write(`broker: ${who}, ${s.ready ? 'ready' : 'not ready'}\n${s.bootstrap}\n`);
        return s.ready ? 0 : 1;
      }
    }
  } catch (err) {
    const msg = err instanceof LuxError ? `${err.message}` : String((err as Error)?.stack ?? err);
    process.stderr.write(`lux kafka ${sub}: ${msg}\n`);
    return 1;
  }
}
