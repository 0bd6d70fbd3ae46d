// Thread names: a LUX thread shows in /proc under the name it gave itself, and `lux bench` counts each thread in its group.
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { nameThread, THREAD_NAMES } from '../../src/service/thread-name.js';
import { readThreadCpu, threadGroup } from '../../bench/e2e/proc-sample.js';
import { distModule } from '../../src/paths.js';

const comms = (): string[] => fs.readdirSync('/proc/self/task').map((t) => fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim());

describe('nameThread', () => {
  it('names the worker thread it runs on, as /proc shows it, and leaves the others alone', async () => {
    const before = comms();
    // the compiled module: a worker cannot load the TypeScript source
    const url = new URL(`file://${distModule('service/thread-name.js')}`).href;
    const worker = new Worker(
      `import('${url}').then((m) => { const ok = m.nameThread('lux-test-name'); require('node:worker_threads').parentPort.postMessage(ok); setTimeout(() => {}, 5000); });`,
      { eval: true },
    );
    try {
      const ok = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(ok).toBe(true);
      expect(comms()).toContain('lux-test-name');
      expect(before).not.toContain('lux-test-name');
      expect(comms().filter((c) => c === 'lux-test-name')).toHaveLength(1);
    } finally {
      await worker.terminate();
    }
  });

  it('keeps names within the kernel limit of 15 bytes', () => {
    for (const name of Object.values(THREAD_NAMES)) expect(Buffer.byteLength(name), name).toBeLessThanOrEqual(15);
    expect(typeof nameThread).toBe('function');
  });
});

describe('threadGroup', () => {
  it('counts the main thread, LUX’s named threads, librdkafka’s and the rest apart', () => {
    expect(threadGroup(100, 100, 'node')).toBe('main');
    expect(threadGroup(100, 101, THREAD_NAMES.decode)).toBe('decode');
    expect(threadGroup(100, 102, THREAD_NAMES.kpi)).toBe('kpi');
    expect(threadGroup(100, 103, THREAD_NAMES.alarm)).toBe('alarm');
    expect(threadGroup(100, 104, THREAD_NAMES.refdata)).toBe('refdata');
    expect(threadGroup(100, 105, 'rdk:broker1')).toBe('librdkafka');
    expect(threadGroup(100, 106, 'node')).toBe('v8+libuv');
    const mine = readThreadCpu(process.pid);
    expect(mine.get(process.pid)?.group).toBe('main');
  });
});
