// The start-up check of librdkafka's build: every codec always, what kafka.security needs, and a message naming the Debian packages and the rebuild.
import { describe, expect, it } from 'vitest';
import {
  assertBuildFeatures,
  checkKafkaFeatures,
  loadedFeatures,
  missingFeatures,
  MissingFeaturesError,
  packagesFor,
  requiredFeatures,
} from '../../src/kafka/features.js';
import type { SecurityConfig } from '../../src/config/schema.js';

// node-rdkafka's features as the issue found them: built without zstd and GSSAPI.
const WITHOUT_ZSTD = 'gzip,snappy,ssl,sasl,regex,lz4,sasl_plain,sasl_scram,plugins,sasl_oauthbearer';
const COMPLETE = 'gzip,snappy,ssl,sasl,regex,lz4,sasl_gssapi,sasl_plain,sasl_scram,plugins,zstd,sasl_oauthbearer,http,oidc';

const plaintext: SecurityConfig = { protocol: 'plaintext' };
const gssapi: SecurityConfig = {
  protocol: 'sasl_ssl',
  sasl: { mechanism: 'GSSAPI', kerberos: { service_name: 'kafka', principal: 'lux@EXAMPLE.COM', keytab: '/etc/lux.keytab' } },
};

describe('librdkafka features', () => {
  it('needs every codec even with plaintext, since producers choose the codec', () => {
    expect(requiredFeatures({ protocol: 'plaintext' })).toEqual(['gzip', 'snappy', 'lz4', 'zstd']);
  });

  it('needs what the protocol and the SASL mechanism use', () => {
    expect(requiredFeatures({ protocol: 'ssl' })).toContain('ssl');
    expect(requiredFeatures({ protocol: 'sasl_ssl', mechanism: 'SCRAM-SHA-512' })).toEqual(expect.arrayContaining(['ssl', 'sasl_scram']));
    expect(requiredFeatures({ protocol: 'sasl_plaintext', mechanism: 'PLAIN' })).not.toContain('ssl');
    expect(requiredFeatures({ protocol: 'sasl_plaintext', mechanism: 'OAUTHBEARER' })).toEqual(expect.arrayContaining(['sasl_oauthbearer', 'oidc']));
    expect(requiredFeatures({ protocol: 'sasl_ssl', mechanism: 'GSSAPI' })).toContain('sasl_gssapi');
  });

  it('finds zstd missing from the build the issue describes, with the package that provides it', () => {
    const missing = missingFeatures(WITHOUT_ZSTD, { protocol: 'plaintext' });
    expect(missing.map((m) => m.feature)).toEqual(['zstd']);
    expect(packagesFor(missing)).toEqual(['libzstd-dev']);
    expect(missingFeatures(WITHOUT_ZSTD.split(','), { protocol: 'plaintext' })).toEqual(missing);
  });

  it('names the Debian packages and the rebuild command when the daemon starts on a build lacking them', () => {
    let err: unknown;
    try {
      checkKafkaFeatures(gssapi, WITHOUT_ZSTD, () => true, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MissingFeaturesError);
    const e = err as MissingFeaturesError;
    expect(e.missing.map((m) => m.feature).sort()).toEqual(['sasl_gssapi', 'zstd']);
    expect(e.message).toContain('built without zstd, sasl_gssapi');
    expect(e.message).toContain('apt-get install libsasl2-dev libsasl2-modules-gssapi-mit libzstd-dev && npm rebuild node-rdkafka');
  });

  it('accepts a complete build, and asks for the GSSAPI plugin when it is absent at run time', () => {
    expect(() => checkKafkaFeatures(plaintext, COMPLETE)).not.toThrow();
    expect(() => checkKafkaFeatures(gssapi, COMPLETE, () => true)).not.toThrow();
    expect(() => checkKafkaFeatures(gssapi, COMPLETE, () => false)).toThrow(/apt-get install libsasl2-modules-gssapi-mit/);
  });

  it('LUX_KAFKA_FEATURES_CHECK=off returns what is missing instead of failing', () => {
    const missing = checkKafkaFeatures(plaintext, WITHOUT_ZSTD, () => true, { LUX_KAFKA_FEATURES_CHECK: 'off' });
    expect(missing.map((m) => m.feature)).toEqual(['zstd']);
    expect(checkKafkaFeatures(plaintext, COMPLETE, () => true, {})).toEqual([]);
  });

  it('the node-rdkafka this suite runs on has every feature LUX uses (.ci/run installs the packages before npm ci)', () => {
    const features = loadedFeatures();
    expect(missingFeatures(features, { protocol: 'sasl_ssl', mechanism: 'GSSAPI' })).toEqual([]);
    expect(features).toEqual(expect.arrayContaining(['zstd', 'sasl_gssapi', 'sasl_scram', 'oidc']));
    const code = process.exitCode;
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      assertBuildFeatures(features);
      expect(process.exitCode).toBe(code);
    } finally {
      process.stdout.write = write;
    }
  });
});
