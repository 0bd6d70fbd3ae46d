// The local broker's classpath for one Apache Kafka version: LUX_KAFKA_HOME/libs, or org.apache.kafka:kafka_2.13:<version> assembled by Maven from kafka/pom.xml into .lux/kafka[-<version>]/libs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LuxError } from '../errors.js';
import { ROOT, STATE_DIR } from '../paths.js';

export const POM = path.join(ROOT, 'kafka', 'pom.xml');
export const INSTALL_HINT = 'apt-get install openjdk-17-jdk-headless maven';
const TAIL_LINES = 40;

/** The version kafka/pom.xml assembles by default (its kafka.version property): the one place that number is written. */
export function defaultKafkaVersion(): string {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(POM, 'utf8'));
  if (m === null) throw new LuxError('E_BROKER_SETUP', `${POM}: no <kafka.version> property`);
  return m[1]!.trim();
}

/** A Kafka version as Maven Central names it: 3.9.1, 4.1.1, 4.2.0-rc1. */
const VERSION = /^\d+\.\d+\.\d+(?:[-.][A-Za-z0-9.]+)?$/;

/** The version asked for (option, else LUX_KAFKA_VERSION, else the pom's), checked so it can name a directory. */
export function kafkaVersion(asked: string | undefined): string {
  const v = asked ?? (process.env.LUX_KAFKA_VERSION || undefined) ?? defaultKafkaVersion();
  if (!VERSION.test(v)) throw new LuxError('E_BROKER_SETUP', `Kafka version '${v}' (LUX_KAFKA_VERSION or version): expected a version such as 3.9.1 or 4.1.1`);
  return v;
}

/** The major version: 3 and 4 differ in what a KRaft node's configuration may hold. */
export function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}

/** The directory a version's jars are assembled into: the default version keeps .lux/kafka/libs, others .lux/kafka-<version>/libs. */
export function libsDirFor(version: string): string {
  return version === defaultKafkaVersion() ? path.join(STATE_DIR, 'kafka', 'libs') : path.join(STATE_DIR, `kafka-${version}`, 'libs');
}

/** The version of the kafka_2.x jar in a directory, or undefined when there is none. */
export function kafkaJarVersion(dir: string): string | undefined {
  try {
    for (const f of fs.readdirSync(dir)) {
      const m = /^kafka_2\.\d+-(.+)\.jar$/.exec(f);
      if (m !== null && !m[1]!.endsWith('-test') && !m[1]!.endsWith('-sources')) return m[1];
    }
  } catch {
    // no such directory
  }
  return undefined;
}

/** Fails with one line naming the Debian package when a tool is not installed. */
export function requireTool(cmd: string, versionArg: string, what: string): void {
  const r = spawnSync(cmd, [versionArg], { stdio: 'ignore' });
  if (r.error !== undefined) {
    throw new LuxError('E_BROKER_SETUP', `${cmd} not found: the local broker needs ${what}; install it with \`${INSTALL_HINT}\``);
  }
}

export interface AssemblyOptions {
  /** the Kafka version; undefined: LUX_KAFKA_VERSION or the pom's */
  version?: string;
  /** an unpacked Kafka distribution (env LUX_KAFKA_HOME) */
  kafkaHome?: string;
  progress: (line: string) => void;
}

/**
 * The directory of jars a broker of the version runs from. LUX_KAFKA_HOME is used when its libs/ hold that version
 * (any version when none was asked for); otherwise Maven assembles it, once per pom content and version.
 */
export function assembleLibs(opts: AssemblyOptions): { libs: string; version: string } {
  const asked = opts.version ?? (process.env.LUX_KAFKA_VERSION || undefined);
  const home = opts.kafkaHome ?? process.env.LUX_KAFKA_HOME;
  if (home !== undefined && home !== '') {
    const libs = path.join(home, 'libs');
    const found = kafkaJarVersion(libs);
    if (found === undefined && asked === undefined) {
      throw new LuxError('E_BROKER_SETUP', `LUX_KAFKA_HOME=${home}: no kafka_2.*.jar in ${libs}; point it at an unpacked Apache Kafka distribution`);
    }
    if (found !== undefined && (asked === undefined || found === asked)) return { libs, version: found };
    // LUX_KAFKA_HOME holds another version than the one asked for: assemble the one asked for.
  }
  const version = kafkaVersion(asked);
  const libs = libsDirFor(version);
  const stamp = path.join(libs, '.pom-sha256');
  const pomHash = createHash('sha256').update(fs.readFileSync(POM)).update(`\0${version}`).digest('hex');
  if (kafkaJarVersion(libs) === version && readText(stamp)?.trim() === pomHash) return { libs, version };

  requireTool('mvn', '-v', 'Maven to assemble Apache Kafka');
  opts.progress(`assembling Apache Kafka ${version} from Maven Central into ${libs} ...`);
  const t0 = Date.now();
  // Assemble beside the target and rename, so an interrupted download is never mistaken for a classpath.
  const partial = `${libs}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(libs), { recursive: true });
  const r = spawnSync(
    'mvn',
    ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-Dkafka.version=${version}`, `-DoutputDirectory=${partial}`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (r.status !== 0 || kafkaJarVersion(partial) !== version) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-TAIL_LINES).join('\n');
    throw new LuxError(
      'E_BROKER_SETUP',
      `mvn -f ${POM} -Dkafka.version=${version} dependency:copy-dependencies failed (exit ${r.status}); is org.apache.kafka:kafka_2.13:${version} on Maven Central?\n${out}`,
    );
  }
  fs.writeFileSync(path.join(partial, '.pom-sha256'), `${pomHash}\n`);
  fs.rmSync(libs, { recursive: true, force: true });
  fs.renameSync(partial, libs);
  const jars = fs.readdirSync(libs).filter((f) => f.endsWith('.jar')).length;
  opts.progress(`assembled ${jars} jars in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { libs, version };
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
