// One compiled module and one shared memory serve several threads: a worker decodes its own slot with the module it was sent.
import { expect, test } from 'vitest';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { encodeFrame } from '../../src/gen/frame-encoder.js';
import { fillSlot, lxe1Module } from '../../src/decode/wasm-decoder.js';
import { decoder, decodeFrames, readRecord, slots } from './harness.js';

// Plain JS so the worker needs no TypeScript loader: instantiate the posted module on the posted memory and decode slot 1.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, msgPtr, count, recPtr } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
parentPort.postMessage(instance.exports.decodeBatch(msgPtr, count, recPtr));
`;

test('a worker decodes a slot of the shared memory with the module compiled on the main thread', async () => {
  const T = Date.UTC(2025, 0, 1);
  const frames = Array.from({ length: 50 }, (_, i) =>
    encodeFrame({ equipmentId: i, frameSeq: i, crc: i % 2 === 0, records: [{ eventTime: T + i, apn: `apn${i}` }, { eventTime: T }] }),
  );
  const slot = slots[1]!;
  expect(fillSlot(decoder, slot, frames)).toBe(50);
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { module: lxe1Module(), memory: decoder.memory, msgPtr: slot.msgPtr, count: 50, recPtr: slot.recPtr },
  });
  // the main thread decodes slot 0 at the same time
  const mine = decodeFrames(frames);
  const [total] = (await once(worker, 'message')) as [number];
  await worker.terminate();
  expect(total).toBe(100);
  expect(mine.total).toBe(100);
  for (let i = 0; i < 100; i++) {
    const theirs = readRecord(slot.recPtr, i);
    const ours = readRecord(slots[0]!.recPtr, i);
    expect(theirs).toEqual(ours);
  }
  expect(readRecord(slot.recPtr, 98).apn).toBe('apn49');
});
