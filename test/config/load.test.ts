// Config loading: defaults, every invalid value reported with key path, value and expectation, LUX_* overrides.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envName, loadConfig, parseConfig } from '../../src/config/load.js';
import { LuxError } from '../../src/errors.js';

const MINIMAL = 'kafka: {brokers: "k1:9092,k2:9092"}\nrefdata: {dir: /srv/ref}\n';
const RULE = '{name: r1, window_ms: 60000, slide_ms: 10000, threshold: 5, clear_below: 2, lateness_ms: 1000}';

/** The E_CONFIG message lines of a config that must fail. */
function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, 'config.yaml', env);
  } catch (e) {
    expect(e).toBeInstanceOf(LuxError);
    expect((e as LuxError).code).toBe('E_CONFIG');
    return (e as LuxError).message.split('\n');
  }
  throw new Error('config was accepted');
}

describe('defaults', () => {
  it('fills every default around the required keys', () => {
    const c = parseConfig(MINIMAL, 'config.yaml', {});
    expect(c.kafka).toMatchObject({ brokers: ['k1:9092', 'k2:9092'], group_id: 'lux', create_topics: false, extra: {} });
    expect(c.topics).toEqual({ raw: 'lux.raw', enriched: 'lux.enriched', alarms: 'lux.alarms', dlq: 'lux.dlq', refdata: 'lux.refdata', alarm_state: 'lux.alarms.state', kpis: 'lux.kpis', kpi_partials: 'lux.kpis.partials', kpi_state: 'lux.kpis.state' });
    expect(c.refdata).toEqual({ dir: '/srv/ref', watch: false });
    expect(c.alarms.rules).toEqual([]);
    expect(c.pipeline.workers).toBe(Math.max(1, os.availableParallelism() - 1));
    expect(c.sla).toMatchObject({ seconds: 60, percentile: 99.9 });
    expect(c.http).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(c.log.level).toBe('info');
  });

  it('accepts brokers as a list and defaults clear_below to the threshold', () => {
    const c = parseConfig(
      'kafka: {brokers: ["a:1", "b:2"]}\nrefdata: {dir: d}\nalarms: {rules: [{name: x, window_ms: 10, slide_ms: 5, threshold: 3}]}\n',
      'config.yaml',
      {},
    );
    expect(c.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(c.alarms.rules[0]).toEqual({ name: 'x', window_ms: 10, slide_ms: 5, threshold: 3, clear_below: 3, lateness_ms: 0 });
  });

  it('the shipped example config is valid', () => {
    const c = loadConfig(path.join(import.meta.dirname, '../../deploy/lux.yaml'), {});
    expect(c.alarms.rules.map((r) => r.name)).toEqual(['failures_5m']);
  });
});

describe('invalid configs name the key, the value and what was expected', () => {
  it('a negative slide_ms', () => {
    expect(problems(`${MINIMAL}alarms: {rules: [{name: r1, window_ms: 60000, slide_ms: -5, threshold: 5}]}\n`)).toEqual([
      'config.yaml: alarms.rules[0].slide_ms: expected a positive integer, got -5',
    ]);
  });

  it('a window that is not a multiple of the slide, clear_below above threshold, a repeated name', () => {
    const rules = `[${RULE}, {name: r1, window_ms: 60000, slide_ms: 7000, threshold: 3, clear_below: 5}]`;
    expect(problems(`${MINIMAL}alarms: {rules: ${rules}}\n`)).toEqual([
      'config.yaml: alarms.rules[1].window_ms: expected a positive multiple of slide_ms (7000), got 60000',
      'config.yaml: alarms.rules[1].clear_below: expected at most threshold (3), got 5',
      'config.yaml: alarms.rules[1].name: expected a unique rule name (rules[0] has it too), got "r1"',
    ]);
  });

  it('an unknown key, with the allowed keys and a near miss', () => {
    expect(problems(`${MINIMAL}pipeline: {wrokers: 4}\n`)).toEqual([
      'config.yaml: pipeline.wrokers: unknown key (expected one of: workers, batch_max_messages, batch_max_bytes, slots, memory_budget_mb, commit_interval_ms, drain_timeout_ms, native_produce, native_consume, native_json, native_kpis; did you mean "workers"?)',
    ]);
    expect(problems(`${MINIMAL}telemetry: {}\n`)[0]).toMatch(/^config\.yaml: telemetry: unknown key \(expected one of: kafka, topics,/);
  });

  it('missing required keys', () => {
    expect(problems('kafka: {group_id: g}\n')).toEqual([
      'config.yaml: kafka.brokers: required key is missing (expected "host:port,host:port" or a list of "host:port")',
      'config.yaml: refdata: required key is missing (expected a map of settings)',
    ]);
  });

  it('bad types and ranges, all reported at once', () => {
    const text = `kafka: {brokers: "k1"}\nrefdata: {dir: d, watch: maybe}\ntopics: {dlq: "dead letters"}\nsla: {percentile: 101}\nhttp: {port: 70000}\nlog: {level: loud}\n`;
    expect(problems(text)).toEqual([
      'config.yaml: kafka.brokers[0]: expected "host:port", got "k1"',
      'config.yaml: topics.dlq: expected a topic name of 1 to 249 characters from [A-Za-z0-9._-], got "dead letters"',
      'config.yaml: refdata.watch: expected true or false, got "maybe"',
      'config.yaml: sla.percentile: expected a percentile in (0, 100], got 101',
      'config.yaml: http.port: expected a non-negative integer (at most 65535), got 70000',
      'config.yaml: log.level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
  });

  it('YAML syntax errors carry line and column', () => {
    expect(problems('kafka: {brokers: a:1}\nkafka: 3\n')).toEqual(['config.yaml:2:1: invalid YAML: Map keys must be unique']);
  });

  it('an unreadable file is named', () => {
    expect(() => loadConfig('/nonexistent/lux.yaml', {})).toThrow(/^\/nonexistent\/lux\.yaml: cannot read the config file: ENOENT/);
  });
});

describe('LUX_* environment overrides', () => {
  it('maps the key path to LUX_ + path with underscores, uppercased', () => {
    expect(envName(['kafka', 'brokers'])).toBe('LUX_KAFKA_BROKERS');
    expect(envName(['pipeline', 'workers'])).toBe('LUX_PIPELINE_WORKERS');
    expect(envName(['kafka', 'group_id'])).toBe('LUX_KAFKA_GROUP_ID');
  });

  it('overrides file values, parsing YAML scalars and keeping strings verbatim', () => {
    const c = parseConfig(MINIMAL, 'config.yaml', {
      LUX_KAFKA_BROKERS: 'x:1,y:2',
      LUX_PIPELINE_WORKERS: '6',
      LUX_REFDATA_WATCH: 'true',
      LUX_KAFKA_GROUP_ID: '0123',
      LUX_ALARMS_RULES: `[${RULE}]`,
      LUX_KAFKA_EXTRA_SECURITY_PROTOCOL: 'ssl',
      LUX_HTTP_PORT: '', // empty: ignored
      PATH: '/usr/bin',
    });
    expect(c.kafka.brokers).toEqual(['x:1', 'y:2']);
    expect(c.pipeline.workers).toBe(6);
    expect(c.refdata.watch).toBe(true);
    expect(c.kafka.group_id).toBe('0123');
    expect(c.alarms.rules[0]?.name).toBe('r1');
    expect(c.kafka.extra).toEqual({ 'security.protocol': 'ssl' });
    expect(c.http.port).toBe(9464);
  });

  it('can supply a required key the file lacks', () => {
    const c = parseConfig('refdata: {dir: d}\n', 'config.yaml', { LUX_KAFKA_BROKERS: 'a:9092' });
    expect(c.kafka.brokers).toEqual(['a:9092']);
  });

  it('an invalid override names the variable, and an unknown LUX_ variable is an error', () => {
    expect(problems(MINIMAL, { LUX_PIPELINE_WORKERS: '-2', LUX_KAFKA_GROUPID: 'g', LUX_STATE_DIR: '/var/lib/lux' })).toEqual([
      'LUX_KAFKA_GROUPID: unknown LUX_* environment variable (it names no configuration key; did you mean "LUX_KAFKA_GROUP_ID"?)',
      'LUX_PIPELINE_WORKERS: pipeline.workers: expected a positive integer, got -2',
    ]);
  });
});

describe('loadConfig', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-config-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the file and names it in messages', () => {
    const file = path.join(dir, 'lux.yaml');
    fs.writeFileSync(file, `${MINIMAL}pipeline: {slots: 0}\n`);
    expect(() => loadConfig(file, {})).toThrow(`${file}: pipeline.slots: expected a positive integer, got 0`);
    fs.writeFileSync(file, MINIMAL);
    expect(loadConfig(file, {}).refdata.dir).toBe('/srv/ref');
  });
});
