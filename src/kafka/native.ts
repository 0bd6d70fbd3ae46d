// The native batches (native/lux_native.c): loads the addon built for this Node, names the librdkafka plugin a client is created with, and reads a consumed batch back as messages.
import { createRequire } from 'node:module';
import { loadAddon } from '../native-addon.js';

import type { Message } from 'node-rdkafka';

/** The addon's functions (see native/lux_native.c for the contract of each). */
export interface NativeBatches {
  /**
   * Enqueues records [from, to) of `spec` (4 words each: value start, value end, key start, key end; key start
   * NATIVE_NO_KEY for none) on the producer named `client`, in order; returns how many were enqueued before
   * librdkafka's queue was full. Any other refusal throws an error with librdkafka's `code` and `produced`.
   */
  produce(client: string, topic: string, values: Uint8Array, keys: Uint8Array, spec: Uint32Array, from: number, to: number): number;
  /**
   * Reads up to `max` messages from the consumer named `client`, the first within `timeoutMs`, each further one within
   * `restMs` (node-rdkafka's consume(n) rule when they are equal; 0: what has been fetched, at once); calls back with
   * one buffer of values and keys, 8 numbers a message in `meta`, and the topic names.
   */
  consume(
    client: string,
    max: number,
    timeoutMs: number,
    restMs: number,
    cb: (err: Error | null, bytes?: ArrayBuffer, meta?: Float64Array, topics?: string[]) => void,
  ): void;
  /** Whether a client of that name was created with the plugin and is alive. */
  registered(client: string): boolean;
  readonly librdkafkaVersion: string;
}

/** The key start word of a record without a key. */
export const NATIVE_NO_KEY = 0xffffffff;

export interface NativeLoad {
  native?: NativeBatches;
  /** the addon file: also the value of plugin.library.paths */
  path: string;
  /** why it is not there, when it is not */
  reason?: string;
}

let loaded: NativeLoad | undefined;

/** The client properties that make librdkafka load the addon as a plugin (so it can find the client): none without it. */
export function pluginProperties(load: NativeLoad | undefined): { 'plugin.library.paths'?: string } {
  return load?.native ? { 'plugin.library.paths': load.path } : {};
}

/**
 * The name under which the plugin registered a connected node-rdkafka client, or undefined: without the addon, or when
 * the client was created without the plugin (`unavailable`, if given, is told why, naming the client's `role`).
 */
export function nativeHandle(native: NativeBatches | undefined, client: object, role: string, unavailable?: (reason: string) => void): string | undefined {
  if (native === undefined) return undefined;
  const name = (client as { name?: string }).name;
  if (name !== undefined && native.registered(name)) return name;
  unavailable?.(`the ${role} '${name}' is not known to the native plugin (is plugin.library.paths set in kafka.extra?)`);
  return undefined;
}

/** The addon for this Node's ABI, loaded once; `reason` says why not (not built, built for another librdkafka). */
export function loadNative(): NativeLoad {
  if (loaded) return loaded;
  // The plugin must be the librdkafka node-rdkafka runs: the one the addon links against, loaded once per process.
  const load = loadAddon<NativeBatches>('lux_native', (native) => {
    const rdkafka = createRequire(import.meta.url)('node-rdkafka') as { librdkafkaVersion: string };
    return native.librdkafkaVersion === rdkafka.librdkafkaVersion ? undefined : `runs librdkafka ${native.librdkafkaVersion}, node-rdkafka ${rdkafka.librdkafkaVersion}`;
  });
  return (loaded = { native: load.addon, path: load.path, reason: load.reason });
}

/**
 * One batch read through the addon, as node-rdkafka's consume(n) returns it: the same message fields (value, size, key,
 * topic, offset, partition, timestamp; no headers), each value and key a Buffer over the batch's one ArrayBuffer. The
 * first message is waited for up to `timeoutMs`, each further one up to `restMs` (default: node-rdkafka's rule, the
 * same wait for each).
 */
export function consumeNative(native: NativeBatches, client: string, max: number, timeoutMs: number, restMs = timeoutMs): Promise<Message[]> {
  return new Promise<Message[]>((resolve, reject) => {
    native.consume(client, max, timeoutMs, restMs, (err, bytes, meta, topics) => {
      if (err) return reject(err);
      const n = meta!.length >>> 3;
      const out = new Array<Message>(n);
      for (let i = 0; i < n; i++) {
        const w = i * 8;
        const valueLength = meta![w + 4];
        const keyLength = meta![w + 6];
        out[i] = {
          value: valueLength < 0 ? (null as unknown as Buffer) : Buffer.from(bytes!, meta![w + 3], valueLength),
          size: valueLength < 0 ? 0 : valueLength,
          key: keyLength < 0 ? null : Buffer.from(bytes!, meta![w + 5], keyLength),
          topic: topics![meta![w + 7]],
          offset: meta![w + 1],
          partition: meta![w],
          timestamp: meta![w + 2],
        };
      }
      resolve(out);
    });
  });
}
