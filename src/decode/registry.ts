// Frame formats by name: each maps to its compiled decoder module and a factory, so a new format is one module and one entry here.
import { LuxError } from '../errors.js';
import { LXE1_WASM } from '../paths.js';
import type { SlotGeometry } from './layout.js';
import { compileLxe1, compileLxe1Sync, Lxe1Decoder, type CompiledDecoder, type DecoderMemory } from './wasm-decoder.js';

/** What a worker needs from any format's decoder: decode a filled slot into record slots (layout.ts). */
export interface FrameDecoder {
  readonly format: string;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  /** One-time setup of shared tables in reserved memory; main thread, before any worker decodes. */
  initCrc(): void;
  decode(slot: SlotGeometry, msgCount: number): number;
}

export interface DecoderFormat {
  readonly name: string;
  /** The compiled WASM module's path. */
  readonly modulePath: string;
  /** Compile once (main thread); the result can be posted to workers. */
  compile(): Promise<CompiledDecoder>;
  /** The same, synchronously (command-line tools). */
  compileSync(): CompiledDecoder;
  /** Instantiate on a shared memory (any thread). */
  create(memory: DecoderMemory, module: CompiledDecoder): FrameDecoder;
}

/** The frame format of SPEC section 1, what the daemon and `lux decode` read. */
export const DEFAULT_FRAME_FORMAT = 'lxe1';

const FORMATS = new Map<string, DecoderFormat>([
  [
    'lxe1',
    {
      name: 'lxe1',
      modulePath: LXE1_WASM,
      compile: () => compileLxe1(LXE1_WASM),
      compileSync: () => compileLxe1Sync(LXE1_WASM),
      create: (memory, module) => new Lxe1Decoder(memory, module),
    },
  ],
]);

export function decoderFormat(name: string): DecoderFormat {
  const f = FORMATS.get(name);
  if (f === undefined) {
    throw new LuxError('E_CONFIG', `unknown frame format "${name}" (known: ${[...FORMATS.keys()].join(', ')})`);
  }
  return f;
}

export function decoderFormatNames(): string[] {
  return [...FORMATS.keys()];
}

export function registerDecoderFormat(format: DecoderFormat): void {
  if (FORMATS.has(format.name)) throw new LuxError('E_INTERNAL', `frame format "${format.name}" is already registered`);
  FORMATS.set(format.name, format);
}
