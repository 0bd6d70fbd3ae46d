// Compiles FrameProducer.java against the assembled kafka-clients jar (once per test process) and runs it: a real Java producer writing LXE1 frames with a chosen codec, in transactions, some aborted.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assembleLibs } from '../../src/kafka-local/assembly.js';
import { encodeFrameStream } from '../../src/gen/frame-encoder.js';

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Codec = (typeof CODECS)[number];

const SOURCE = path.join(import.meta.dirname, 'FrameProducer.java');
const LOG4J_CONFIG = path.resolve(import.meta.dirname, '../../kafka/log4j2.properties');

/** What the producer did with each frame, in input order. */
export interface ProducedFrame {
  index: number;
  committed: boolean;
  /** the record key, null when it sent none */
  key: string | null;
}

export interface JavaProducerRun {
  bootstrap: string;
  topic: string;
  frames: Buffer[];
  compression: Codec;
  framesPerTransaction: number;
  /** every K-th transaction is aborted (0: none) */
  abortEvery: number;
  transactionalId: string;
  /** the Kafka version whose kafka-clients to use (default: the local broker's) */
  version?: string;
}

let compiled: { classes: string; libs: string } | undefined;

/** javac's output directory and the classpath; compiled once per test process (about 2 s). */
export function compileFrameProducer(version?: string): { classes: string; libs: string } {
  if (compiled !== undefined && version === undefined) return compiled;
  const { libs } = assembleLibs({ version, progress: (l) => process.stderr.write(`[java-producer] ${l}\n`) });
  const classes = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-java-producer-'));
  const r = spawnSync('javac', ['-d', classes, '-cp', path.join(libs, '*'), SOURCE], { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`javac not found: install a JDK (apt-get install openjdk-17-jdk-headless): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`javac ${SOURCE} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  const out = { classes, libs };
  if (version === undefined) compiled = out;
  return out;
}

/** Runs the Java producer to completion; resolves to the manifest (which frames were committed, with which key). */
export function runJavaProducer(run: JavaProducerRun): ProducedFrame[] {
  const { classes, libs } = compileFrameProducer(run.version);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-java-run-'));
  const input = path.join(dir, 'frames.bin');
  const manifest = path.join(dir, 'manifest.tsv');
  fs.writeFileSync(input, encodeFrameStream(run.frames));
  const r = spawnSync(
    'java',
    [
      '-Xmx256m',
      `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
      `-Dkafka.logs.dir=${dir}`,
      '-cp',
      `${classes}${path.delimiter}${path.join(libs, '*')}`,
      'FrameProducer',
      '--bootstrap', run.bootstrap,
      '--topic', run.topic,
      '--in', input,
      '--compression', run.compression,
      '--transactional-id', run.transactionalId,
      '--frames-per-transaction', String(run.framesPerTransaction),
      '--abort-every', String(run.abortEvery),
      '--manifest', manifest,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) {
    const log = fs.existsSync(path.join(dir, 'kafka.log')) ? fs.readFileSync(path.join(dir, 'kafka.log'), 'utf8').slice(-4000) : '';
    throw new Error(`java FrameProducer (${run.compression}) failed (exit ${r.status}, signal ${r.signal}):\n${r.stdout}${r.stderr}\n${log}`);
  }
  return fs
    .readFileSync(manifest, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [index, outcome, key] = line.split('\t');
      return { index: Number(index), committed: outcome === 'commit', key: key === '\\N' ? null : key! };
    });
}
