// Names the calling thread (native/thread_name.c) so `top -H` and /proc show LUX's threads by role — best effort: without the addon nothing is named and nothing fails.
import { loadAddon } from '../native-addon.js';

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
  // loaded once: null (not built, does not load) is an answer too
  if (setName === undefined) setName = loadAddon<{ setName(name: string): boolean }>('lux_thread').addon?.setName ?? null;
  return setName !== null && setName(name);
}
