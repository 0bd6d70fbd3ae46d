// Loading one of LUX's native addons (native/*.c, built per Node ABI by native/build.mjs): once per thread, checked, with the reason in words when it is not used.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { nativeAddon, ROOT } from './paths.js';

/** The addon, or why it is not used; `path` is its file either way. */
export type AddonLoad<T> = { addon: T; path: string; reason?: undefined } | { addon?: undefined; path: string; reason: string };

/**
 * Loads `native/build/abi-<ABI>/<name>.node`. `check` says why a loaded addon must not be used (built for another
 * layout, another librdkafka), in words completed by "(npm run build:native)"; undefined accepts it.
 */
export function loadAddon<T>(name: string, check: (addon: T) => string | undefined = () => undefined): AddonLoad<T> {
  const file = nativeAddon(name);
  const rel = path.relative(ROOT, file);
  if (!existsSync(file)) return { path: file, reason: `${rel} is not built for Node ${process.version} (npm run build:native)` };
  try {
    const addon = createRequire(import.meta.url)(file) as T;
    const refused = check(addon);
    return refused === undefined ? { addon, path: file } : { path: file, reason: `${rel} ${refused} (npm run build:native)` };
  } catch (err) {
    return { path: file, reason: `${rel} does not load: ${(err as Error).message}` };
  }
}

/** A check for `loadAddon`: the addon's exported layout words are this build's, or `refusal`. */
export function sameLayout(expected: readonly number[], refusal: string): (addon: { layout: ArrayLike<number> }) => string | undefined {
  return (addon) => (addon.layout.length === expected.length && expected.every((v, i) => v === addon.layout[i]) ? undefined : refusal);
}
