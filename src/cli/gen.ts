// `lux gen`: the command line of the traffic generator (src/gen/generator.ts): options, help, the summary line.
import { LuxError } from '../errors.js';
import { TRAFFIC_DEFAULTS } from '../gen/traffic.js';
import { defaultBrokers, formatSummary, GEN_DEFAULTS, runGenerator, type GenOptions } from '../gen/generator.js';
import { nonNegative, parseOptions, positiveInt } from './args.js';

export { defaultBrokers, GEN_DEFAULTS, runGenerator, type GenOptions, type GenSummary } from '../gen/generator.js';

const COMMAND = 'gen';

const HELP = `usage: lux gen (--topic T | --out FILE) [options]

  --topic T               produce to Kafka topic T (runs until Ctrl-C unless a stop condition is given)
  --out FILE              write length-prefixed frames (the \`lux decode\` input) to FILE (default --records ${GEN_DEFAULTS.defaultFileRecords})
  --brokers HOST:PORT     bootstrap servers (default $LUX_KAFKA_BROKERS or ${GEN_DEFAULTS.brokers})
  --rate R                records per second, 0 = as fast as possible (default ${GEN_DEFAULTS.rate}); a file is not paced,
                          its event times advance as if written at R
  --duration S            stop after S seconds
  --frames N              stop after N frames
  --records N             stop after N records in frames that decode
  --records-per-frame K|A-B   records per frame (default ${TRAFFIC_DEFAULTS.recordsPerFrameMin}-${TRAFFIC_DEFAULTS.recordsPerFrameMax})
  --equipment N           equipment ids 1..N (default ${TRAFFIC_DEFAULTS.equipment})
  --failure-share X       share of failed records (default ${TRAFFIC_DEFAULTS.failureShare})
  --bad-share X           share of broken frames, for the dead-letter path (default ${TRAFFIC_DEFAULTS.badShare})
  --burst-every S         every S seconds one equipment emits a burst of failures, 0 = off (default ${TRAFFIC_DEFAULTS.burstEveryMs / 1000})
  --burst-size N          failures per burst (default ${TRAFFIC_DEFAULTS.burstFailures})
  --crc X                 share of frames with a CRC trailer (default ${TRAFFIC_DEFAULTS.crcShare})
  --seed N                PRNG seed (default ${TRAFFIC_DEFAULTS.seed})
  --quiet                 no progress lines on standard error
`;

/** A share option: a number in [0, 1]. */
function share(name: string, value: string | undefined, fallback: number): number {
  const n = nonNegative(COMMAND, name, value, fallback);
  if (n > 1) throw new LuxError('E_USAGE', `${COMMAND}: --${name} expects a share between 0 and 1, got '${value}'`);
  return n;
}

/** `K` or `A-B` with 1 ≤ A ≤ B ≤ 65535. */
function recordsPerFrame(value: string | undefined): { min: number; max: number } {
  if (value === undefined) return { min: TRAFFIC_DEFAULTS.recordsPerFrameMin, max: TRAFFIC_DEFAULTS.recordsPerFrameMax };
  const m = /^(\d+)(?:-(\d+))?$/.exec(value);
  const min = m === null ? NaN : Number(m[1]);
  const max = m === null ? NaN : Number(m[2] ?? m[1]);
  if (!(min >= 1 && max >= min && max <= 0xffff)) {
    throw new LuxError('E_USAGE', `${COMMAND}: --records-per-frame expects K or A-B with 1 ≤ A ≤ B ≤ 65535, got '${value}'`);
  }
  return { min, max };
}

/** node:util parseArgs explains some mistakes over three lines (e.g. `--seed -1`); a usage error is one line. */
function firstLineOnly<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof LuxError && err.message.includes('\n')) throw new LuxError(err.code, err.message.split('\n')[0]!, { cause: err });
    throw err;
  }
}

/** Parses the command line into GenOptions (exported for tests). */
export function parseGenArgs(argv: string[]): Partial<GenOptions> & { help?: boolean } {
  const v = firstLineOnly(() => parseOptions(COMMAND, argv, {
    brokers: { type: 'string' },
    topic: { type: 'string' },
    out: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    frames: { type: 'string' },
    records: { type: 'string' },
    'records-per-frame': { type: 'string' },
    equipment: { type: 'string' },
    'failure-share': { type: 'string' },
    'bad-share': { type: 'string' },
    'burst-every': { type: 'string' },
    'burst-size': { type: 'string' },
    crc: { type: 'string' },
    seed: { type: 'string' },
    quiet: { type: 'boolean' },
  }));
  if (v.help === true) return { help: true };
  for (const name of ['topic', 'out', 'brokers'] as const) {
    if (v[name] === '') throw new LuxError('E_USAGE', `${COMMAND}: --${name} expects a value`);
  }
  if ((v.topic === undefined) === (v.out === undefined)) throw new LuxError('E_USAGE', `${COMMAND}: give exactly one of --topic T and --out FILE`);
  const seed = nonNegative(COMMAND, 'seed', v.seed, TRAFFIC_DEFAULTS.seed);
  if (!Number.isInteger(seed) || seed > 0xffffffff) throw new LuxError('E_USAGE', `${COMMAND}: --seed expects an integer in 0..4294967295, got '${v.seed}'`);
  const duration = v.duration === undefined ? undefined : nonNegative(COMMAND, 'duration', v.duration, 0);
  if (duration === 0) throw new LuxError('E_USAGE', `${COMMAND}: --duration expects a positive number of seconds, got '${v.duration}'`);
  const rpf = recordsPerFrame(v['records-per-frame']);
  return {
    brokers: v.brokers ?? defaultBrokers(),
    topic: v.topic,
    out: v.out,
    rate: nonNegative(COMMAND, 'rate', v.rate, GEN_DEFAULTS.rate),
    durationMs: duration === undefined ? undefined : duration * 1000,
    frames: v.frames === undefined ? undefined : positiveInt(COMMAND, 'frames', v.frames, 0),
    records: v.records === undefined ? undefined : positiveInt(COMMAND, 'records', v.records, 0),
    quiet: v.quiet ?? false,
    traffic: {
      seed,
      equipment: positiveInt(COMMAND, 'equipment', v.equipment, TRAFFIC_DEFAULTS.equipment),
      recordsPerFrameMin: rpf.min,
      recordsPerFrameMax: rpf.max,
      failureShare: share('failure-share', v['failure-share'], TRAFFIC_DEFAULTS.failureShare),
      badShare: share('bad-share', v['bad-share'], TRAFFIC_DEFAULTS.badShare),
      crcShare: share('crc', v.crc, TRAFFIC_DEFAULTS.crcShare),
      burstEveryMs: nonNegative(COMMAND, 'burst-every', v['burst-every'], TRAFFIC_DEFAULTS.burstEveryMs / 1000) * 1000,
      burstFailures: v['burst-size'] === undefined ? TRAFFIC_DEFAULTS.burstFailures : positiveInt(COMMAND, 'burst-size', v['burst-size'], 0),
    },
  };
}

/** `lux gen`: exit status 0 once everything is written (and, for a topic, acknowledged). */
export async function genCommand(argv: string[]): Promise<number> {
  const opts = parseGenArgs(argv);
  if (opts.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await runGenerator(opts, stop.signal);
    process.stdout.write(formatSummary(summary) + '\n');
    return summary.deliveryErrors > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
