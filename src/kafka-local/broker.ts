// The local development broker: `lux kafka start | stop | status` runs one Apache Kafka 4.x KRaft node (broker+controller) on 127.0.0.1 under STATE_DIR.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as RdKafka from 'node-rdkafka';
import { LuxError } from '../errors.js';
import { ROOT, STATE_DIR } from '../paths.js';

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
  /** An unpacked Kafka distribution whose libs/ is used instead of Maven (env LUX_KAFKA_HOME). */
  kafkaHome?: string;
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
} as const;

const KAFKA_DIR = path.join(STATE_DIR, 'kafka');
const POM = path.join(ROOT, 'kafka', 'pom.xml');
const LOG4J_CONFIG = path.join(ROOT, 'kafka', 'log4j2.properties');
const INSTALL_HINT = 'apt-get install openjdk-17-jre-headless maven';

/** Files of one broker instance; each port gets its own, so two ports never share a KRaft log. */
interface Instance {
  port: number;
  controllerPort: number;
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
  const dir = path.join(KAFKA_DIR, `broker-${port}`);
  return {
    port,
    controllerPort,
    bootstrap: `${BROKER_DEFAULTS.host}:${port}`,
    dir,
    dataDir: path.join(dir, 'data'),
    logsDir: path.join(dir, 'logs'),
    config: path.join(dir, 'server.properties'),
    pidFile: path.join(dir, 'broker.pid'),
    stdoutLog: path.join(dir, 'logs', 'broker.out'),
  };
}

function serverProperties(inst: Instance): string {
  const h = BROKER_DEFAULTS.host;
  return [
    '# Written by `lux kafka start` on every start; edit src/kafka-local/broker.ts instead.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=${h}:${inst.controllerPort}`,
    `listeners=PLAINTEXT://${h}:${inst.port},CONTROLLER://${h}:${inst.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${h}:${inst.port},CONTROLLER://${h}:${inst.controllerPort}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
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
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // A development machine has few cores: fewer threads, less contention with the tests.
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=4',
    'num.recovery.threads.per.data.dir=1',
    '',
  ].join('\n');
}

function say(opts: BrokerOptions, line: string): void {
  (opts.progress ?? ((l: string) => process.stderr.write(`lux kafka: ${l}\n`)))(line);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Fails with one line naming the Debian package when a tool is not installed. */
function requireTool(cmd: string, versionArg: string, what: string): void {
  const r = spawnSync(cmd, [versionArg], { stdio: 'ignore' });
  if (r.error !== undefined) {
    throw new LuxError('E_BROKER_SETUP', `${cmd} not found: the local broker needs ${what}; install it with \`${INSTALL_HINT}\``);
  }
}

function hasKafkaJar(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((f) => /^kafka_2\.\d+-.*\.jar$/.test(f));
  } catch {
    return false;
  }
}

/** The directory of jars the broker runs from: LUX_KAFKA_HOME/libs, or .lux/kafka/libs assembled by Maven from kafka/pom.xml. */
function assembleLibs(opts: BrokerOptions): string {
  const home = opts.kafkaHome ?? process.env.LUX_KAFKA_HOME;
  if (home !== undefined && home !== '') {
    const libs = path.join(home, 'libs');
    if (!hasKafkaJar(libs)) {
      throw new LuxError('E_BROKER_SETUP', `LUX_KAFKA_HOME=${home}: no kafka_2.*.jar in ${libs}; point it at an unpacked Apache Kafka 4.x distribution`);
    }
    return libs;
  }
  const libs = path.join(KAFKA_DIR, 'libs');
  const stamp = path.join(libs, '.pom-sha256');
  const pomHash = createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
  if (hasKafkaJar(libs) && readText(stamp)?.trim() === pomHash) return libs;

  requireTool('mvn', '-v', 'Maven to assemble Apache Kafka');
  say(opts, `assembling Apache Kafka from Maven Central into ${libs} ...`);
  const t0 = Date.now();
  // Assemble beside the target and rename, so an interrupted download is never mistaken for a classpath.
  const partial = `${libs}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  const r = spawnSync(
    'mvn',
    ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${partial}`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (r.status !== 0 || !hasKafkaJar(partial)) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-BROKER_DEFAULTS.logTailLines).join('\n');
    throw new LuxError('E_BROKER_SETUP', `mvn -f ${POM} dependency:copy-dependencies failed (exit ${r.status}):\n${out}`);
  }
  fs.writeFileSync(path.join(partial, '.pom-sha256'), `${pomHash}\n`);
  fs.rmSync(libs, { recursive: true, force: true });
  fs.renameSync(partial, libs);
  say(opts, `assembled ${fs.readdirSync(libs).filter((f) => f.endsWith('.jar')).length} jars in ${seconds(Date.now() - t0)}`);
  return libs;
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

/** Formats the KRaft storage once; a data directory holding meta.properties is left as it is. */
function formatStorage(libs: string, inst: Instance, opts: BrokerOptions): void {
  if (fs.existsSync(path.join(inst.dataDir, 'meta.properties'))) return;
  const base = javaArgs(libs, inst, 256);
  const id = spawnSync('java', [...base, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' });
  const clusterId = id.stdout?.trim().split('\n').pop() ?? '';
  if (id.status !== 0 || clusterId === '') {
    throw new LuxError('E_BROKER_SETUP', `kafka.tools.StorageTool random-uuid failed (exit ${id.status}): ${id.stderr?.trim()}`);
  }
  const fmt = spawnSync(
    'java',
    [...base, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', inst.config, '--standalone'],
    { encoding: 'utf8' },
  );
  if (fmt.status !== 0) {
    throw new LuxError('E_BROKER_SETUP', `kafka.tools.StorageTool format -c ${inst.config} failed (exit ${fmt.status}): ${`${fmt.stdout}${fmt.stderr}`.trim()}`);
  }
  say(opts, `formatted KRaft storage in ${inst.dataDir} (cluster ${clusterId})`);
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
  const inst = instanceFor(opts);
  const readyTimeoutMs = opts.readyTimeoutMs ?? BROKER_DEFAULTS.readyTimeoutMs;
  const probeMs = Math.min(BROKER_DEFAULTS.probeTimeoutMs, readyTimeoutMs);

  const running = livePid(inst);
  if (running !== undefined) {
    if (await isReady(inst.bootstrap, inst.port, probeMs)) {
      say(opts, `broker already running (pid ${running}) on ${inst.bootstrap}`);
      return inst.bootstrap;
    }
    // Ours but not (yet) ready: perhaps still starting; wait for it rather than start a second one.
    say(opts, `broker pid ${running} is running but not ready; waiting for it`);
    await waitReady(inst, running, readyTimeoutMs, probeMs, Date.now(), opts);
    return inst.bootstrap;
  }
  if (await portOpen(inst.port)) {
    if (await isReady(inst.bootstrap, inst.port, probeMs)) {
      say(opts, `a broker not started by lux is ready on ${inst.bootstrap}; using it`);
      return inst.bootstrap;
    }
    throw new LuxError('E_BROKER_SETUP', `port ${inst.port} on ${BROKER_DEFAULTS.host} is in use by something that is not a ready Kafka broker; set LUX_KAFKA_PORT to another port`);
  }

  requireTool('java', '-version', 'a Java 17+ runtime');
  const libs = assembleLibs(opts);
  fs.mkdirSync(inst.dataDir, { recursive: true });
  fs.mkdirSync(inst.logsDir, { recursive: true });
  fs.writeFileSync(inst.config, serverProperties(inst));
  formatStorage(libs, inst, opts);

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
  say(opts, `started broker pid ${pid}; waiting up to ${seconds(readyTimeoutMs)} for it to accept a transaction`);
  await waitReady(inst, pid, readyTimeoutMs, probeMs, t0, opts);
  return inst.bootstrap;
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

/** Stops the broker lux started (pid file): SIGTERM to its process group, SIGKILL after a timeout. Resolves true if one was stopped. */
export async function stopBroker(opts: BrokerOptions = {}): Promise<boolean> {
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
  signal('SIGTERM');
  while (isAlive(pid) && Date.now() - t0 < BROKER_DEFAULTS.stopTimeoutMs) await sleep(200);
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

const USAGE = 'usage: lux kafka start | stop | status   (env: LUX_KAFKA_PORT, LUX_KAFKA_CONTROLLER_PORT, LUX_KAFKA_HOME)';

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
