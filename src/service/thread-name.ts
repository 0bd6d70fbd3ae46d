// Names the calling thread (native/thread_name.c) so `top -H` and /proc show LUX's threads by role — best effort: without the addon nothing is named and nothing fails.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { nativeAddon } from '../paths.js';

/** The names LUX gives its threads (at most 15 bytes, the kernel's limit); `lux bench` splits the daemon's CPU by them. */
export const THREAD_NAMES = {
  decode: 'lux-decode',
  kpi: 'lux-kpi',
  alarm: 'lux-alarm',
  refdata: 'lux-refdata',
} as const;

let setName: ((name: string) => boolean) | null | undefined;

/** Names the thread this runs on; false when the addon is not built for this Node (the thread keeps "node"). */
export function nameThread(name: string): boolean {
  if (setName === undefined) {
    const file = nativeAddon('lux_thread');
    try {
      setName = existsSync(file) ? (createRequire(import.meta.url)(file) as { setName(name: string): boolean }).setName : null;
    } catch {
      setName = null;
    }
  }
  return setName !== null && setName(name);
}
