// A build that lacks a codec: LUX refuses to start saying what to install, or (features check bypassed) reports an undecompressable batch once, located, with /ready false and a metric — never a silent retry loop.
//
// Needs a node-rdkafka built without zstd, named by NODE_RDKAFKA_WITHOUT_ZSTD (not LUX_*: the daemon refuses unknown
// LUX_* variables, and children inherit the test's environment) — its package directory, with its
// node_modules siblings bindings, file-uri-to-path and nan beside it). docs/kafka-estates.md says how to make one:
//   mkdir -p /tmp/nozstd/node_modules && cp -a node_modules/{node-rdkafka,bindings,file-uri-to-path,nan} /tmp/nozstd/node_modules/
//   cd /tmp/nozstd/node_modules/node-rdkafka && ./configure --disable-zstd && npx node-gyp rebuild
// The daemon runs from a shadow of this checkout (dist/, bin/, package.json copied; node_modules linked, but for
// node-rdkafka, which is that build), since a running process resolves node-rdkafka from where dist/ really is.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokers } from '../kafka-helpers.js';
import { ROOT, daemonTopics, sleep, writeConfig, type RunningDaemon } from '../pipeline/daemon-harness.js';
import { runJavaProducer } from './java-producer.js';
import { generatedFrames } from './estate-harness.js';

const WITHOUT_ZSTD = process.env.NODE_RDKAFKA_WITHOUT_ZSTD;

/** A copy of the built daemon whose node_modules/node-rdkafka is the build without zstd. */
function shadowCheckout(rdkafka: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-nozstd-'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  for (const name of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    const target = name === 'node-rdkafka' ? rdkafka : path.join(ROOT, 'node_modules', name);
    fs.symlinkSync(target, path.join(dir, 'node_modules', name));
  }
  return dir;
}

function startShadowDaemon(shadow: string, config: string, env: NodeJS.ProcessEnv = {}): RunningDaemon {
  const child = spawn(process.execPath, [path.join(shadow, 'bin', 'lux.js'), 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => out, exited };
}

async function httpUrl(d: RunningDaemon): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const m = /"url":"(http:\/\/[^"]+)"/.exec(d.output());
    if (m !== null) return m[1]!;
    await sleep(100);
  }
  throw new Error(`no http url in the daemon's log:\n${d.output()}`);
}

describe('a librdkafka without zstd', () => {
  // Runs where NODE_RDKAFKA_WITHOUT_ZSTD names such a build (npm run test:nozstd makes one); CI does not build it.
  it.skipIf(WITHOUT_ZSTD === undefined)('lux run refuses to start, naming the missing codec, the Debian package and the rebuild command', async () => {
    if (WITHOUT_ZSTD === undefined) throw new Error('set NODE_RDKAFKA_WITHOUT_ZSTD to a node-rdkafka built without zstd');
    const topics = await daemonTopics('estate-nozstd-start');
    const d = startShadowDaemon(shadowCheckout(WITHOUT_ZSTD), writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t` }));
    const code = await Promise.race([d.exited, sleep(60_000).then(() => 'still running')]);
    if (code === 'still running') d.child.kill('SIGKILL');
    expect(code, d.output()).not.toBe(0);
    expect(d.output()).toContain('built without zstd');
    expect(d.output()).toContain('apt-get install libzstd-dev && npm rebuild node-rdkafka');
  });

  // Runs where NODE_RDKAFKA_WITHOUT_ZSTD names such a build (npm run test:nozstd makes one). The
  // start-up check is turned off (LUX_KAFKA_FEATURES_CHECK=off, read by checkKafkaFeatures) so the consume path
  // itself is exercised, as with a codec a producer starts using under a daemon that started without it.
  it.skipIf(WITHOUT_ZSTD === undefined)('a zstd batch is reported once with its topic, partition, offset and codec; /ready is false and a metric counts it', async () => {
    if (WITHOUT_ZSTD === undefined) throw new Error('set NODE_RDKAFKA_WITHOUT_ZSTD to a node-rdkafka built without zstd');
    const topics = await daemonTopics('estate-nozstd', 1);
    runJavaProducer({
      bootstrap: brokers(),
      topic: topics.raw,
      frames: generatedFrames({ frames: 60, seed: 7, badShare: 0 }),
      compression: 'zstd',
      framesPerTransaction: 60,
      abortEvery: 0,
      transactionalId: `${topics.raw}-java`,
    });
    const d = startShadowDaemon(shadowCheckout(WITHOUT_ZSTD), writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t` }), {
      LUX_KAFKA_FEATURES_CHECK: 'off',
    });
    try {
      const url = await httpUrl(d);
      const deadline = Date.now() + 30_000;
      while (!/built without|undecompressable|cannot be decompressed/.test(d.output()) && Date.now() < deadline) await sleep(250);
      await sleep(5_000); // long enough for a retry loop to show itself
      const lines = d.output().split('\n').filter((l) => l.includes('which this librdkafka was built without'));
      expect(lines, d.output().slice(-4000)).toHaveLength(1);
      expect(lines[0]).toContain(`topic ${topics.raw} partition 0 offset 0`);
      expect(lines[0]).toContain('compressed with zstd');
      expect(lines[0]).toContain('apt-get install libzstd-dev && npm rebuild node-rdkafka');
      expect(d.output().split('\n').filter((l) => l.includes('consume failed; retrying')).length).toBeLessThan(3);
      expect((await fetch(`${url}/ready`)).status).toBe(503);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^lux_consume_undecompressable_batches_total\\{[^}]*topic="${topics.raw}"[^}]*\\} [1-9]`, 'm'));
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  });
});
