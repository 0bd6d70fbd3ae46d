// Whether this process's librdkafka (node-rdkafka's build) can do what the configuration needs, and what to install and rebuild when not.
import fs from 'node:fs';
import { LuxError } from '../errors.js';
import { KAFKA_FEATURES } from './client.js';
import type { SaslMechanism, SecurityConfig, SecurityProtocol } from '../config/schema.js';

/** A librdkafka build feature, as `builtin.features` (node-rdkafka's `features`) lists it. */
export type LibrdkafkaFeature =
  | 'gzip'
  | 'snappy'
  | 'lz4'
  | 'zstd'
  | 'ssl'
  | 'sasl_plain'
  | 'sasl_scram'
  | 'sasl_oauthbearer'
  | 'oidc'
  | 'sasl_gssapi';

/**
 * What each feature is for and the Debian packages librdkafka's configure needs to build it (`npm ci` builds
 * node-rdkafka with whatever headers the machine has, and silently leaves a feature out when they are missing).
 * snappy and lz4 are bundled with librdkafka; plain SASL needs nothing. .ci/run installs every package named here.
 */
export const FEATURE_PACKAGES: Readonly<Record<LibrdkafkaFeature, { why: string; packages: readonly string[] }>> = {
  gzip: { why: 'gzip-compressed batches', packages: ['zlib1g-dev'] },
  snappy: { why: 'snappy-compressed batches', packages: [] },
  lz4: { why: 'lz4-compressed batches', packages: [] },
  zstd: { why: 'zstd-compressed batches (producers choose their codec; zstd is the one Kafka recommends)', packages: ['libzstd-dev'] },
  ssl: { why: 'TLS (kafka.security.protocol ssl or sasl_ssl) and SCRAM', packages: ['libssl-dev'] },
  sasl_plain: { why: 'SASL PLAIN', packages: [] },
  sasl_scram: { why: 'SASL SCRAM-SHA-256/512', packages: ['libssl-dev'] },
  sasl_oauthbearer: { why: 'SASL OAUTHBEARER', packages: ['libssl-dev'] },
  oidc: { why: 'OAUTHBEARER tokens from an OIDC token endpoint', packages: ['libcurl4-openssl-dev'] },
  // The plugin package is needed at run time too: without it Cyrus SASL offers no GSSAPI mechanism at all.
  sasl_gssapi: { why: 'SASL GSSAPI (Kerberos)', packages: ['libsasl2-dev', 'libsasl2-modules-gssapi-mit'] },
};

/** Every codec: producers choose theirs, and one batch LUX cannot decompress stops its partition. */
export const CODEC_FEATURES: readonly LibrdkafkaFeature[] = ['gzip', 'snappy', 'lz4', 'zstd'];

/** The command that rebuilds node-rdkafka (librdkafka's configure runs again and finds the new headers). */
export const REBUILD_COMMAND = 'npm rebuild node-rdkafka';

/** A feature the configuration needs and the build lacks. */
export interface MissingFeature {
  feature: LibrdkafkaFeature;
  why: string;
  packages: readonly string[];
}

/** Cyrus SASL's GSSAPI plugin, from libsasl2-modules-gssapi-mit; without it librdkafka's GSSAPI fails at connect time. */
const GSSAPI_PLUGIN_DIRS = ['/usr/lib/x86_64-linux-gnu/sasl2', '/usr/lib/aarch64-linux-gnu/sasl2', '/usr/lib/sasl2', '/usr/lib64/sasl2'];

/** What the features check needs to know of the configuration. */
export interface FeatureNeeds {
  protocol: SecurityProtocol;
  mechanism?: SaslMechanism;
}

/** The needs of a kafka.security section. */
export function needsOf(security: SecurityConfig): FeatureNeeds {
  return { protocol: security.protocol, mechanism: security.sasl?.mechanism };
}

/** The features a configuration needs: every codec always, then what its security protocol and SASL mechanism use. */
export function requiredFeatures(needs: FeatureNeeds): LibrdkafkaFeature[] {
  const out: LibrdkafkaFeature[] = [...CODEC_FEATURES];
  if (needs.protocol === 'ssl' || needs.protocol === 'sasl_ssl') out.push('ssl');
  if (needs.protocol === 'sasl_plaintext' || needs.protocol === 'sasl_ssl') {
    switch (needs.mechanism) {
      case 'PLAIN':
        out.push('sasl_plain');
        break;
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512':
        out.push('sasl_scram');
        break;
      case 'OAUTHBEARER':
        out.push('sasl_oauthbearer', 'oidc');
        break;
      case 'GSSAPI':
        out.push('sasl_gssapi');
        break;
      case undefined:
        break;
    }
  }
  return out;
}

/** The features list as node-rdkafka gives it (an array) or as librdkafka prints it (`gzip,snappy,...`). */
function featureSet(features: string | readonly string[]): Set<string> {
  const list = typeof features === 'string' ? features.split(',') : features;
  return new Set(list.map((f) => f.trim()).filter((f) => f !== ''));
}

/** The required features absent from `features`. */
export function missingFeatures(features: string | readonly string[], needs: FeatureNeeds): MissingFeature[] {
  const have = featureSet(features);
  return requiredFeatures(needs)
    .filter((f) => !have.has(f))
    .map((feature) => ({ feature, ...FEATURE_PACKAGES[feature] }));
}

/** The Debian packages that provide the missing features, each once, in a stable order. */
export function packagesFor(missing: readonly MissingFeature[]): string[] {
  return [...new Set(missing.flatMap((m) => m.packages))].sort();
}

/** The build lacks features the configuration needs; `missing` lists them, the message says what to install and run. */
export class MissingFeaturesError extends LuxError {
  readonly missing: readonly MissingFeature[];
  constructor(missing: readonly MissingFeature[], message: string) {
    super('E_KAFKA', message);
    this.name = 'MissingFeaturesError';
    this.missing = missing;
  }
}

/** One paragraph: what is missing and why, and the two commands that fix it. */
export function describeMissing(missing: readonly MissingFeature[], have: string | readonly string[]): string {
  const lines = missing.map((m) => `  ${m.feature}: ${m.why}`);
  const pkgs = packagesFor(missing);
  const install = pkgs.length > 0 ? `apt-get install ${pkgs.join(' ')} && ` : '';
  return [
    `this node-rdkafka's librdkafka was built without ${missing.map((m) => m.feature).join(', ')} (it has: ${[...featureSet(have)].join(',')}):`,
    ...lines,
    `install the development packages and rebuild it: ${install}${REBUILD_COMMAND}`,
  ].join('\n');
}

/** node-rdkafka's `features`: what this process's librdkafka was built with. */
export function loadedFeatures(): readonly string[] {
  return KAFKA_FEATURES;
}

/** Whether Cyrus SASL's GSSAPI plugin is installed where libsasl2 looks on common distributions. */
export function gssapiPluginInstalled(dirs: readonly string[] = GSSAPI_PLUGIN_DIRS): boolean {
  return dirs.some((d) => {
    try {
      return fs.readdirSync(d).some((f) => f.startsWith('libgssapiv2.so'));
    } catch {
      return false;
    }
  });
}

/** LUX_KAFKA_FEATURES_CHECK=off turns the start-up check into a warning (tests of the consume path; an operator who knows). */
export const FEATURES_CHECK_ENV = 'LUX_KAFKA_FEATURES_CHECK';

/**
 * The daemon's start-up check: throws when the librdkafka build lacks a codec or what kafka.security needs, naming the
 * Debian packages and the rebuild command; with GSSAPI configured also when the run-time plugin is absent. With
 * LUX_KAFKA_FEATURES_CHECK=off it throws nothing and returns what is missing, for the daemon to log as a warning.
 */
export function checkKafkaFeatures(
  security: SecurityConfig,
  features: string | readonly string[] = loadedFeatures(),
  pluginInstalled: () => boolean = gssapiPluginInstalled,
  env: NodeJS.ProcessEnv = process.env,
): MissingFeature[] {
  const needs = needsOf(security);
  const missing = missingFeatures(features, needs);
  let error: MissingFeaturesError | undefined;
  if (missing.length > 0) error = new MissingFeaturesError(missing, describeMissing(missing, features));
  else if (needs.mechanism === 'GSSAPI' && needs.protocol !== 'plaintext' && needs.protocol !== 'ssl' && !pluginInstalled()) {
    const plugin = { feature: 'sasl_gssapi' as const, why: 'the Cyrus SASL GSSAPI plugin (libgssapiv2.so) is not installed', packages: ['libsasl2-modules-gssapi-mit'] };
    error = new MissingFeaturesError([plugin], `kafka.security.sasl.mechanism GSSAPI: ${plugin.why}: apt-get install libsasl2-modules-gssapi-mit`);
  }
  if (error === undefined) return [];
  if (env[FEATURES_CHECK_ENV] === 'off') return [...error.missing];
  throw error;
}

/** Every feature LUX can use: what a complete build (CI, `npm ci` on a prepared machine) must have. */
export const ALL_FEATURES: readonly LibrdkafkaFeature[] = Object.keys(FEATURE_PACKAGES) as LibrdkafkaFeature[];

/** For .ci/run after each node-rdkafka build: prints the features, exits 1 naming the packages when one is missing. */
export function assertBuildFeatures(features: readonly string[] = loadedFeatures()): void {
  const have = featureSet(features);
  const missing = ALL_FEATURES.filter((f) => !have.has(f)).map((feature) => ({ feature, ...FEATURE_PACKAGES[feature] }));
  if (missing.length > 0) {
    process.stderr.write(`${describeMissing(missing, features)}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`librdkafka features: ${features.join(',')}\n`);
}
