// Test-time TLS for the local broker: a throw-away CA and a broker certificate for 127.0.0.1 and localhost, made with openssl under the broker's state directory.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LuxError } from '../errors.js';

/** Files of one broker's TLS material, all PEM. */
export interface TlsMaterial {
  dir: string;
  /** the CA certificate clients trust (librdkafka's ssl.ca.location) */
  caFile: string;
  /** the broker's private key (PKCS#8, unencrypted) followed by its certificate: Kafka's PEM keystore */
  keystoreFile: string;
}

const TLS_DEFAULTS = {
  days: 30,
  keyBits: 2048,
  subject: '/CN=lux-local-kafka',
  caSubject: '/CN=lux-local-kafka-ca',
  /** librdkafka verifies the host name by default: the certificate names every address the broker advertises */
  altNames: 'IP:127.0.0.1,DNS:localhost',
} as const;

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error !== undefined) {
    throw new LuxError('E_BROKER_SETUP', 'openssl not found: the local broker\'s TLS listener needs it; install it with `apt-get install openssl`');
  }
  if (r.status !== 0) throw new LuxError('E_BROKER_SETUP', `openssl ${args.slice(0, 2).join(' ')} in ${cwd} failed (exit ${r.status}): ${r.stderr.trim()}`);
}

/**
 * The CA and broker certificate in `dir`, made once: a broker restarted later keeps the certificate its clients
 * already trust. Delete the directory to make new ones.
 */
export function tlsMaterial(dir: string): TlsMaterial {
  const m: TlsMaterial = { dir, caFile: path.join(dir, 'ca.pem'), keystoreFile: path.join(dir, 'broker-keystore.pem') };
  if (fs.existsSync(m.caFile) && fs.existsSync(m.keystoreFile)) return m;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const d = TLS_DEFAULTS;
  openssl(['req', '-x509', '-newkey', `rsa:${d.keyBits}`, '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', String(d.days), '-subj', d.caSubject], dir);
  openssl(['req', '-newkey', `rsa:${d.keyBits}`, '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', d.subject], dir);
  fs.writeFileSync(path.join(dir, 'broker.ext'), `subjectAltName=${d.altNames}\nextendedKeyUsage=serverAuth\n`);
  openssl(
    ['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', String(d.days), '-extfile', 'broker.ext'],
    dir,
  );
  // Kafka's PEM keystore: the key, then the certificate chain (the broker's, then the CA's).
  const keystore = [fs.readFileSync(path.join(dir, 'broker.key'), 'utf8'), fs.readFileSync(path.join(dir, 'broker.pem'), 'utf8'), fs.readFileSync(m.caFile, 'utf8')].join('');
  fs.writeFileSync(m.keystoreFile, keystore, { mode: 0o600 });
  return m;
}
