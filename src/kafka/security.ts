// kafka.security as librdkafka properties for every LUX client, its secrets read from files or the environment at start, and the redaction that keeps them out of logs and `lux explain`.
import fs from 'node:fs';
import { LuxError } from '../errors.js';
import type { LuxConfig, SecurityConfig } from '../config/schema.js';

/** librdkafka properties, as node-rdkafka takes them. */
export type KafkaProperties = Record<string, string | number | boolean>;

/** What a secret or a file is replaced with wherever configuration is shown. */
export const REDACTED = '[redacted]';

/**
 * librdkafka properties that hold a secret (not a path to one). `sasl.oauthbearer.config` may carry a client secret;
 * `ssl.key.pem` and `ssl_key` are the key itself. Matched exactly, and by the `password` / `secret` words for any
 * property librdkafka adds later.
 */
export const SECRET_PROPERTIES: readonly string[] = [
  'sasl.password',
  'sasl.oauthbearer.client.secret',
  'sasl.oauthbearer.config',
  'sasl.oauthbearer.assertion.private.key.passphrase',
  'sasl.oauthbearer.assertion.private.key.pem',
  'ssl.key.password',
  'ssl.key.pem',
  'ssl_key',
  'ssl.keystore.password',
];

/** A problem with one file or environment variable that kafka.security names; `key` is its configuration key path. */
export interface SecurityProblem {
  key: string;
  message: string;
}

/** Where secrets come from; tests pass their own. */
export interface SecretSources {
  env: NodeJS.ProcessEnv;
  readFile(path: string): string;
}

const SYSTEM_SOURCES: SecretSources = {
  env: process.env,
  readFile: (p) => fs.readFileSync(p, 'utf8'),
};

const KEY = 'kafka.security';

/** A secret read from a file or an environment variable could not be had; the message names the key and the path or variable. */
export class SecretError extends LuxError {
  readonly key: string;
  constructor(key: string, message: string, cause?: unknown) {
    super('E_CONFIG', message, { cause });
    this.name = 'SecretError';
    this.key = key;
  }
}

function errnoOf(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? err.message;
}

/** A file's secret: its text less the line break an editor or `echo` leaves; an empty one is an error, not a blank password. */
function secretFromFile(key: string, file: string, sources: SecretSources): string {
  let text: string;
  try {
    text = sources.readFile(file);
  } catch (e) {
    throw new SecretError(key, `cannot read ${key} ${file}: ${errnoOf(e)}`, e);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new SecretError(key, `${key} ${file}: the file is empty`);
  return secret;
}

function secretFromEnv(key: string, name: string, sources: SecretSources): string {
  const v = sources.env[name];
  if (v === undefined) throw new SecretError(key, `${key}: the environment variable ${name} is not set`);
  if (v === '') throw new SecretError(key, `${key}: the environment variable ${name} is empty`);
  return v;
}

/** The secret of a file/env pair (the schema allows exactly one of them). */
function secret(keyBase: string, file: string | undefined, env: string | undefined, sources: SecretSources): string | undefined {
  if (file !== undefined) return secretFromFile(`${keyBase}_file`, file, sources);
  if (env !== undefined) return secretFromEnv(`${keyBase}_env`, env, sources);
  return undefined;
}

/**
 * The librdkafka properties kafka.security stands for, secrets read now (at start: a rotated credential file is read
 * again at the next start). Every client LUX makes (consumer, producer, admin, reference-data reader) gets them; they
 * go after kafka.extra, which the schema keeps free of security properties once kafka.security is used.
 * With protocol plaintext (the default) nothing is returned, so a kafka.extra written before kafka.security existed
 * keeps working.
 *
 * @throws SecretError naming the key and the file or variable that could not be read.
 */
export function securityProperties(security: SecurityConfig, sources: SecretSources = SYSTEM_SOURCES): KafkaProperties {
  if (security.protocol === 'plaintext') return {};
  const props: KafkaProperties = { 'security.protocol': security.protocol };
  const t = security.tls;
  if (security.protocol === 'ssl' || security.protocol === 'sasl_ssl') {
    // librdkafka's own default is to verify (https); stated either way, so `explain` shows what is in force.
    props['ssl.endpoint.identification.algorithm'] = (t?.verify_hostname ?? true) ? 'https' : 'none';
    if (t?.ca_file !== undefined) props['ssl.ca.location'] = t.ca_file;
    if (t?.cert_file !== undefined) props['ssl.certificate.location'] = t.cert_file;
    if (t?.key_file !== undefined) props['ssl.key.location'] = t.key_file;
    const keyPassword = t === undefined ? undefined : secret(`${KEY}.tls.key_password`, t.key_password_file, t.key_password_env, sources);
    if (keyPassword !== undefined) props['ssl.key.password'] = keyPassword;
  }
  const a = security.sasl;
  if (a !== undefined) {
    props['sasl.mechanisms'] = a.mechanism;
    switch (a.mechanism) {
      case 'PLAIN':
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512': {
        props['sasl.username'] = a.username ?? '';
        const password = secret(`${KEY}.sasl.password`, a.password_file, a.password_env, sources);
        if (password !== undefined) props['sasl.password'] = password;
        break;
      }
      case 'OAUTHBEARER': {
        const o = a.oauthbearer;
        if (o === undefined) break; // the schema requires it; nothing to add without it
        props['sasl.oauthbearer.method'] = 'oidc';
        props['sasl.oauthbearer.token.endpoint.url'] = o.token_endpoint_url;
        props['sasl.oauthbearer.client.id'] = o.client_id;
        const clientSecret = secret(`${KEY}.sasl.oauthbearer.client_secret`, o.client_secret_file, o.client_secret_env, sources);
        if (clientSecret !== undefined) props['sasl.oauthbearer.client.secret'] = clientSecret;
        if (o.scope !== undefined) props['sasl.oauthbearer.scope'] = o.scope;
        if (o.extensions !== undefined && Object.keys(o.extensions).length > 0) {
          props['sasl.oauthbearer.extensions'] = Object.entries(o.extensions)
            .map(([k, v]) => `${k}=${v}`)
            .join(',');
        }
        break;
      }
      case 'GSSAPI': {
        const k = a.kerberos;
        if (k === undefined) break;
        props['sasl.kerberos.service.name'] = k.service_name;
        props['sasl.kerberos.principal'] = k.principal;
        props['sasl.kerberos.keytab'] = k.keytab;
        break;
      }
    }
  }
  return props;
}

/** Readability of one named file, as `lux validate` reports it. */
function checkFile(key: string, file: string | undefined, problems: SecurityProblem[], access: (p: string) => void): void {
  if (file === undefined) return;
  try {
    access(file);
  } catch (e) {
    problems.push({ key, message: `cannot read ${key} ${file}: ${errnoOf(e)}` });
  }
}

function checkEnv(key: string, name: string | undefined, env: NodeJS.ProcessEnv, problems: SecurityProblem[]): void {
  if (name === undefined) return;
  const v = env[name];
  if (v === undefined || v === '') {
    problems.push({ key, message: `${key}: the environment variable ${name} is ${v === undefined ? 'not set' : 'empty'}` });
  }
}

/**
 * Every file and environment variable kafka.security names that cannot be read now, each with its key, for
 * `lux validate` (which runs where the daemon will, so the same files should be there). Nothing is read into memory.
 */
export function checkSecurityFiles(
  config: Pick<LuxConfig, 'kafka'>,
  env: NodeJS.ProcessEnv = process.env,
  access: (path: string) => void = (p) => fs.accessSync(p, fs.constants.R_OK),
): SecurityProblem[] {
  const s = config.kafka.security;
  const problems: SecurityProblem[] = [];
  if (s.protocol === 'plaintext') return problems;
  const t = s.tls;
  if (t !== undefined) {
    checkFile(`${KEY}.tls.ca_file`, t.ca_file, problems, access);
    checkFile(`${KEY}.tls.cert_file`, t.cert_file, problems, access);
    checkFile(`${KEY}.tls.key_file`, t.key_file, problems, access);
    checkFile(`${KEY}.tls.key_password_file`, t.key_password_file, problems, access);
    checkEnv(`${KEY}.tls.key_password_env`, t.key_password_env, env, problems);
  }
  const a = s.sasl;
  if (a !== undefined) {
    checkFile(`${KEY}.sasl.password_file`, a.password_file, problems, access);
    checkEnv(`${KEY}.sasl.password_env`, a.password_env, env, problems);
    if (a.oauthbearer !== undefined) {
      checkFile(`${KEY}.sasl.oauthbearer.client_secret_file`, a.oauthbearer.client_secret_file, problems, access);
      checkEnv(`${KEY}.sasl.oauthbearer.client_secret_env`, a.oauthbearer.client_secret_env, env, problems);
    }
    if (a.kerberos !== undefined) checkFile(`${KEY}.sasl.kerberos.keytab`, a.kerberos.keytab, problems, access);
  }
  return problems;
}

/** Whether a librdkafka property holds a secret. */
export function isSecretProperty(name: string): boolean {
  const n = name.toLowerCase();
  return SECRET_PROPERTIES.includes(n) || n.includes('password') || n.includes('secret');
}

/** A copy of librdkafka properties with every secret replaced by REDACTED: for logs, errors and `lux explain`. */
export function redactKafkaProperties<T extends Record<string, unknown>>(props: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) out[k] = isSecretProperty(k) && v !== undefined && v !== '' ? REDACTED : v;
  return out as T;
}

/**
 * A copy of the configuration fit to show: kafka.extra's secret properties redacted. kafka.security itself holds
 * only paths and variable names, never a secret, and is shown as it is (where to look is what an operator needs).
 */
export function redactConfig<T extends Pick<LuxConfig, 'kafka'>>(config: T): T {
  return { ...config, kafka: { ...config.kafka, extra: redactKafkaProperties(config.kafka.extra) } };
}

/** Replaces every occurrence of the given secrets in a text (an error message from a client, say) by REDACTED. */
export function redactText(text: string, props: KafkaProperties): string {
  let out = text;
  for (const [k, v] of Object.entries(props)) {
    if (isSecretProperty(k) && typeof v === 'string' && v.length >= 4) out = out.split(v).join(REDACTED);
  }
  return out;
}

/** One line for `lux explain`: the protocol, mechanism and where each secret comes from — never a secret. */
export function describeSecurity(security: SecurityConfig): string {
  const parts: string[] = [security.protocol];
  const t = security.tls;
  if (security.protocol === 'ssl' || security.protocol === 'sasl_ssl') {
    parts.push(`CA ${t?.ca_file ?? 'the system store'}`);
    if (t?.cert_file !== undefined) parts.push(`client certificate ${t.cert_file}`);
    parts.push((t?.verify_hostname ?? true) ? 'hostname verified' : 'hostname NOT verified');
  }
  const a = security.sasl;
  if (a !== undefined) {
    const from = (file: string | undefined, env: string | undefined): string =>
      file !== undefined ? `from file ${file}` : env !== undefined ? `from $${env}` : 'from nowhere';
    switch (a.mechanism) {
      case 'PLAIN':
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512':
        parts.push(`SASL ${a.mechanism} as ${a.username ?? '?'} (password ${from(a.password_file, a.password_env)})`);
        break;
      case 'OAUTHBEARER':
        parts.push(`SASL OAUTHBEARER, OIDC client ${a.oauthbearer?.client_id ?? '?'} at ${a.oauthbearer?.token_endpoint_url ?? '?'} (secret ${from(a.oauthbearer?.client_secret_file, a.oauthbearer?.client_secret_env)})`);
        break;
      case 'GSSAPI':
        parts.push(`SASL GSSAPI as ${a.kerberos?.principal ?? '?'} (keytab ${a.kerberos?.keytab ?? '?'}, service ${a.kerberos?.service_name ?? '?'})`);
        break;
    }
  }
  return parts.join(', ');
}

/**
 * librdkafka's log line for a failed TLS handshake or SASL authentication, when `line` is one. A client whose
 * credentials are refused only reports `Local: Broker transport failure` (-195) to connect()'s callback and emits no
 * error event; the reason is in its log (severity 3, facility FAIL): the Kafka client room passes those lines here.
 */
export function securityFailure(line: string): string | undefined {
  const m = /(SASL authentication error: .*|SSL handshake failed: .*|Failed to initialize SASL authentication: .*|SSL certificate verification failed.*)$/.exec(line);
  return m === null ? undefined : m[1]!.replace(/ \(after \d+ms in state [A-Z_]+(?:, \d+ identical error\(s\) suppressed)?\)$/, '');
}
