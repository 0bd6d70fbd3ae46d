// The native batch produce (native/lux_native.c): loads the addon built for this Node and names the librdkafka plugin a producer is created with.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../paths.js';

/** The addon's functions (see native/lux_native.c for the contract of each). */
export interface NativeProduce {
  /**
   * Enqueues records [from, to) of `spec` (4 words each: value start, value end, key start, key end; key start
   * NATIVE_NO_KEY for none) on the producer named `client`, in order; returns how many were enqueued before
   * librdkafka's queue was full. Any other refusal throws an error with librdkafka's `code` and `produced`.
   */
  produce(client: string, topic: string, values: Uint8Array, keys: Uint8Array, spec: Uint32Array, from: number, to: number): number;
  /** Whether a producer of that name was created with the plugin and is alive. */
  registered(client: string): boolean;
  readonly librdkafkaVersion: string;
}

/** The key start word of a record without a key. */
export const NATIVE_NO_KEY = 0xffffffff;

export interface NativeLoad {
  native?: NativeProduce;
  /** the addon file: also the value of plugin.library.paths */
  path: string;
  /** why it is not there, when it is not */
  reason?: string;
}

let loaded: NativeLoad | undefined;

/** The addon for this Node's ABI, loaded once; `reason` says why not (not built, built for another librdkafka). */
export function loadNativeProduce(): NativeLoad {
  if (loaded) return loaded;
  const file = path.join(ROOT, 'native', 'build', `abi-${process.versions.modules}`, 'lux_native.node');
  if (!existsSync(file)) {
    loaded = { path: file, reason: `${path.relative(ROOT, file)} is not built for Node ${process.version} (npm run build:native)` };
    return loaded;
  }
  try {
    const native = createRequire(import.meta.url)(file) as NativeProduce;
    // The plugin must be the librdkafka node-rdkafka runs: the one the addon links against, loaded once per process.
    const rdkafka = createRequire(import.meta.url)('node-rdkafka') as { librdkafkaVersion: string };
    if (native.librdkafkaVersion !== rdkafka.librdkafkaVersion) {
      loaded = { path: file, reason: `${path.relative(ROOT, file)} runs librdkafka ${native.librdkafkaVersion}, node-rdkafka ${rdkafka.librdkafkaVersion} (npm run build:native)` };
      return loaded;
    }
    loaded = { native, path: file };
  } catch (err) {
    loaded = { path: file, reason: `${path.relative(ROOT, file)} does not load: ${(err as Error).message}` };
  }
  return loaded;
}
