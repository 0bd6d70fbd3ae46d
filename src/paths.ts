// Where the built artefacts live: worker scripts and the WASM module resolve to dist/ even when called from src/ under vitest.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository (package) root. */
export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(dir: string): string {
  // src/paths.ts or dist/src/paths.js: the root is the parent of the first ancestor named src (and of dist, when built)
  let d = dir;
  for (let i = 0; i < 5; i++) {
    if (path.basename(d) === 'src') {
      const up = path.dirname(d);
      return path.basename(up) === 'dist' ? path.dirname(up) : up;
    }
    d = path.dirname(d);
  }
  throw new Error(`cannot locate the LUX root from ${dir}`);
}

/** Absolute path of a compiled module under dist/src, e.g. distModule('transport/decode-worker.js'). */
export function distModule(rel: string): string {
  return path.join(ROOT, 'dist', 'src', rel);
}

/** A native addon built for this Node's ABI by native/build.mjs, e.g. nativeAddon('lux_json'). */
export function nativeAddon(name: string): string {
  return path.join(ROOT, 'native', 'build', `abi-${process.versions.modules}`, `${name}.node`);
}

/** The compiled LXE1 decoder. */
export const LXE1_WASM = path.join(ROOT, 'dist', 'wasm', 'lxe1.wasm');

/** Project-local state (broker data, caches); ignored by git. */
export const STATE_DIR = process.env.LUX_STATE_DIR ?? path.join(ROOT, '.lux');
