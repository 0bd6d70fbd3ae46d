// kafka.security: the schema's located errors and cross-checks, the librdkafka properties it stands for, secrets read from files or the environment with located errors, and redaction.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import {
  checkSecurityFiles,
  describeSecurity,
  redactConfig,
  redactKafkaProperties,
  redactText,
  REDACTED,
  SecretError,
  securityProperties,
} from '../../src/kafka/security.js';

const BASE = 'refdata:\n  dir: /tmp\nkafka:\n  brokers: "k1:9093"\n';

function load(security: string, env: NodeJS.ProcessEnv = {}, extra = '') {
  return parseConfig(`${BASE}  security:\n${security.replace(/^/gm, '    ')}\n${extra}`, 'lux.yaml', env);
}

function problems(security: string, extra = ''): string[] {
  try {
    load(security, {}, extra);
  } catch (e) {
    return (e as Error).message.split('\n');
  }
  return [];
}

describe('kafka.security in the schema', () => {
  it('defaults to plaintext, adding no property', () => {
    const c = parseConfig(BASE, 'lux.yaml', {});
    expect(c.kafka.security).toEqual({ protocol: 'plaintext' });
    expect(securityProperties(c.kafka.security)).toEqual({});
  });

  it('names the key of every problem', () => {
    expect(problems('protocol: tls')).toEqual(['lux.yaml: kafka.security.protocol: expected one of plaintext, ssl, sasl_plaintext, sasl_ssl, got "tls"']);
    expect(problems('protocol: sasl_ssl\nsasl:\n  mechanism: SCRAM-SHA-1')[0]).toMatch(/^lux\.yaml: kafka\.security\.sasl\.mechanism: expected one of PLAIN, SCRAM-SHA-256/);
    expect(problems('protocol: sasl_ssl\nsasl:\n  mechanism: PLAIN\n  username: u\n  password_file: ""')).toEqual([
      'lux.yaml: kafka.security.sasl.password_file: expected a non-empty string, got ""',
    ]);
    expect(problems('protocol: ssl\ntls:\n  ca_fil: /x')[0]).toMatch(/kafka\.security\.tls\.ca_fil: unknown key .*did you mean "ca_file"/);
  });

  it('cross-checks: sasl_* needs sasl, SCRAM needs a username and one password source, tls only with TLS', () => {
    expect(problems('protocol: sasl_ssl')).toEqual(['lux.yaml: kafka.security.sasl: expected a sasl section with protocol sasl_ssl, got nothing']);
    expect(problems('protocol: sasl_plaintext\nsasl:\n  mechanism: SCRAM-SHA-256')).toEqual([
      'lux.yaml: kafka.security.sasl.username: expected a username for SCRAM-SHA-256, got nothing',
      'lux.yaml: kafka.security.sasl.password_file: expected password_file or password_env for SCRAM-SHA-256, got nothing',
    ]);
    expect(problems('protocol: sasl_ssl\nsasl:\n  mechanism: PLAIN\n  username: u\n  password_file: /a\n  password_env: B')).toEqual([
      'lux.yaml: kafka.security.sasl.password_env: expected password_file or password_env, not both, got "B"',
    ]);
    expect(problems('protocol: sasl_plaintext\ntls:\n  ca_file: /ca.pem\nsasl:\n  mechanism: PLAIN\n  username: u\n  password_env: P')[0]).toMatch(
      /kafka\.security\.tls: expected no tls section with protocol sasl_plaintext \(use ssl or sasl_ssl\)/,
    );
    expect(problems('protocol: ssl\ntls:\n  cert_file: /c.pem')).toEqual([
      'lux.yaml: kafka.security.tls.key_file: expected a key_file with cert_file (a client certificate needs both), got nothing',
    ]);
    expect(problems('protocol: sasl_ssl\nsasl:\n  mechanism: OAUTHBEARER\n  username: u')).toEqual([
      'lux.yaml: kafka.security.sasl.oauthbearer: expected an oauthbearer section (token_endpoint_url, client_id, client_secret_file or client_secret_env), got nothing',
      'lux.yaml: kafka.security.sasl.username: expected nothing here: OAUTHBEARER does not use it, got "u"',
    ]);
    expect(problems('protocol: sasl_ssl\nsasl:\n  mechanism: GSSAPI')[0]).toMatch(/kafka\.security\.sasl\.kerberos: expected a kerberos section \(principal, keytab\), got nothing/);
    expect(problems('protocol: plaintext\nsasl:\n  mechanism: PLAIN')[0]).toMatch(/kafka\.security\.sasl: expected no sasl section with protocol plaintext/);
  });

  it('keeps security properties out of kafka.extra once kafka.security is used, and allows them there with plaintext', () => {
    const sec = 'protocol: sasl_ssl\nsasl:\n  mechanism: PLAIN\n  username: u\n  password_env: P';
    expect(problems(sec, '  extra:\n    sasl.password: hunter2\n    linger.ms: 5')).toEqual([
      'lux.yaml: kafka.extra.sasl.password: expected no security property here: kafka.security (protocol sasl_ssl) sets them, got "hunter2"',
    ]);
    expect(problems('protocol: plaintext', '  extra:\n    security.protocol: SASL_SSL')).toEqual([]);
  });

  it('takes kafka.security from LUX_* variables like any key', () => {
    const c = parseConfig(BASE, 'lux.yaml', {
      LUX_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      LUX_KAFKA_SECURITY_SASL_MECHANISM: 'SCRAM-SHA-512',
      LUX_KAFKA_SECURITY_SASL_USERNAME: 'lux',
      LUX_KAFKA_SECURITY_SASL_PASSWORD_FILE: '/run/credentials/lux/kafka-password',
    });
    expect(c.kafka.security.sasl?.mechanism).toBe('SCRAM-SHA-512');
  });
});

describe('kafka.security as librdkafka properties', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-security-'));
  const passwordFile = path.join(dir, 'kafka-password');
  fs.writeFileSync(passwordFile, 's3cret-pass\n');

  it('SASL_SSL with SCRAM: protocol, CA, hostname check, mechanism, user and the password read from its file (line break dropped)', () => {
    const c = load(`protocol: sasl_ssl\ntls:\n  ca_file: ${dir}/ca.pem\nsasl:\n  mechanism: SCRAM-SHA-512\n  username: lux\n  password_file: ${passwordFile}`);
    expect(securityProperties(c.kafka.security)).toEqual({
      'security.protocol': 'sasl_ssl',
      'ssl.endpoint.identification.algorithm': 'https',
      'ssl.ca.location': `${dir}/ca.pem`,
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'lux',
      'sasl.password': 's3cret-pass',
    });
  });

  it('mutual TLS with an encrypted key whose password is in the environment; hostname check off on request', () => {
    const c = load('protocol: ssl\ntls:\n  cert_file: /c.pem\n  key_file: /k.pem\n  key_password_env: KEY_PW\n  verify_hostname: false');
    const props = securityProperties(c.kafka.security, { env: { KEY_PW: 'pw-of-key' }, readFile: () => '' });
    expect(props).toEqual({
      'security.protocol': 'ssl',
      'ssl.endpoint.identification.algorithm': 'none',
      'ssl.certificate.location': '/c.pem',
      'ssl.key.location': '/k.pem',
      'ssl.key.password': 'pw-of-key',
    });
  });

  it('OAUTHBEARER through librdkafka\'s OIDC client, and GSSAPI with a keytab', () => {
    const oidc = load(
      'protocol: sasl_ssl\nsasl:\n  mechanism: OAUTHBEARER\n  oauthbearer:\n    token_endpoint_url: https://idp.example.com/token\n    client_id: lux\n    client_secret_env: OIDC_SECRET\n    scope: kafka\n    extensions: {logicalCluster: lkc-1, identityPoolId: pool-2}',
    );
    expect(securityProperties(oidc.kafka.security, { env: { OIDC_SECRET: 'oidc-secret' }, readFile: () => '' })).toMatchObject({
      'sasl.mechanisms': 'OAUTHBEARER',
      'sasl.oauthbearer.method': 'oidc',
      'sasl.oauthbearer.token.endpoint.url': 'https://idp.example.com/token',
      'sasl.oauthbearer.client.id': 'lux',
      'sasl.oauthbearer.client.secret': 'oidc-secret',
      'sasl.oauthbearer.scope': 'kafka',
      'sasl.oauthbearer.extensions': 'logicalCluster=lkc-1,identityPoolId=pool-2',
    });
    const krb = load('protocol: sasl_plaintext\nsasl:\n  mechanism: GSSAPI\n  kerberos:\n    principal: lux/host1@EXAMPLE.COM\n    keytab: /etc/lux/lux.keytab');
    expect(securityProperties(krb.kafka.security)).toEqual({
      'security.protocol': 'sasl_plaintext',
      'sasl.mechanisms': 'GSSAPI',
      'sasl.kerberos.service.name': 'kafka',
      'sasl.kerberos.principal': 'lux/host1@EXAMPLE.COM',
      'sasl.kerberos.keytab': '/etc/lux/lux.keytab',
    });
  });

  it('a secret that cannot be read fails with its key, path and cause', () => {
    const missing = '/run/credentials/lux/kafka-password';
    const c = load(`protocol: sasl_ssl\nsasl:\n  mechanism: PLAIN\n  username: lux\n  password_file: ${missing}`);
    expect(() => securityProperties(c.kafka.security)).toThrow(`cannot read kafka.security.sasl.password_file ${missing}: ENOENT`);
    const e = (() => {
      try {
        securityProperties(c.kafka.security);
      } catch (err) {
        return err as SecretError;
      }
    })();
    expect(e).toBeInstanceOf(SecretError);
    expect(e?.key).toBe('kafka.security.sasl.password_file');
    const byEnv = load('protocol: sasl_ssl\nsasl:\n  mechanism: PLAIN\n  username: lux\n  password_env: KAFKA_PASSWORD');
    expect(() => securityProperties(byEnv.kafka.security, { env: {}, readFile: () => '' })).toThrow(
      'kafka.security.sasl.password_env: the environment variable KAFKA_PASSWORD is not set',
    );
    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '\n');
    const c2 = load(`protocol: sasl_ssl\nsasl:\n  mechanism: PLAIN\n  username: lux\n  password_file: ${empty}`);
    expect(() => securityProperties(c2.kafka.security)).toThrow(`kafka.security.sasl.password_file ${empty}: the file is empty`);
  });

  it('checkSecurityFiles lists every unreadable file and unset variable with its key (lux validate)', () => {
    const c = load(
      `protocol: sasl_ssl\ntls:\n  ca_file: ${dir}/no-ca.pem\n  cert_file: ${passwordFile}\n  key_file: ${dir}/no-key.pem\nsasl:\n  mechanism: SCRAM-SHA-256\n  username: lux\n  password_env: KAFKA_PASSWORD`,
    );
    expect(checkSecurityFiles(c, {})).toEqual([
      { key: 'kafka.security.tls.ca_file', message: `cannot read kafka.security.tls.ca_file ${dir}/no-ca.pem: ENOENT` },
      { key: 'kafka.security.tls.key_file', message: `cannot read kafka.security.tls.key_file ${dir}/no-key.pem: ENOENT` },
      { key: 'kafka.security.sasl.password_env', message: 'kafka.security.sasl.password_env: the environment variable KAFKA_PASSWORD is not set' },
    ]);
    expect(checkSecurityFiles(c, { KAFKA_PASSWORD: 'x' }).map((p) => p.key)).not.toContain('kafka.security.sasl.password_env');
  });

  it('redacts secrets in properties, in kafka.extra and in texts; explain shows only where secrets come from', () => {
    const props = { 'security.protocol': 'sasl_ssl', 'sasl.username': 'lux', 'sasl.password': 's3cret-pass', 'ssl.key.password': 'kp', 'sasl.oauthbearer.client.secret': 'cs', 'linger.ms': 5 };
    expect(redactKafkaProperties(props)).toEqual({
      'security.protocol': 'sasl_ssl',
      'sasl.username': 'lux',
      'sasl.password': REDACTED,
      'ssl.key.password': REDACTED,
      'sasl.oauthbearer.client.secret': REDACTED,
      'linger.ms': 5,
    });
    const c = parseConfig(`${BASE}  extra:\n    sasl.password: hunter2\n    linger.ms: 5\n`, 'lux.yaml', {});
    expect(redactConfig(c).kafka.extra).toEqual({ 'sasl.password': REDACTED, 'linger.ms': 5 });
    expect(c.kafka.extra['sasl.password']).toBe('hunter2');
    expect(redactText('auth failed for lux with s3cret-pass', props)).toBe(`auth failed for lux with ${REDACTED}`);
    const shown = describeSecurity(load(`protocol: sasl_ssl\nsasl:\n  mechanism: SCRAM-SHA-512\n  username: lux\n  password_file: ${passwordFile}`).kafka.security);
    expect(shown).toBe(`sasl_ssl, CA the system store, hostname verified, SASL SCRAM-SHA-512 as lux (password from file ${passwordFile})`);
    expect(shown).not.toContain('s3cret');
  });
});
