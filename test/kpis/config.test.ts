// The `kpis` section and the KPI topics of the configuration: defaults, and every invalid value reported at its key.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { LuxError } from '../../src/errors.js';

const MINIMAL = 'kafka: {brokers: "k1:9092"}\nrefdata: {dir: /srv/ref}\n';

function problems(text: string): string[] {
  try {
    parseConfig(MINIMAL + text, 'config.yaml', {});
  } catch (e) {
    expect(e).toBeInstanceOf(LuxError);
    expect((e as LuxError).code).toBe('E_CONFIG');
    return (e as LuxError).message.split('\n');
  }
  throw new Error('config was accepted');
}

describe('kpis config', () => {
  it('is on by default: 60 s windows, 5 s lateness, all four dimensions, no rule, and its three topics', () => {
    const c = parseConfig(MINIMAL, 'config.yaml', {});
    expect(c.kpis).toEqual({ enabled: true, window_ms: 60_000, lateness_ms: 5_000, dimensions: ['cell', 'equipment', 'region', 'vendor'], rules: [] });
    expect(c.topics).toMatchObject({ kpis: 'lux.kpis', kpi_partials: 'lux.kpis.partials', kpi_state: 'lux.kpis.state' });
  });

  it('fills a rule\'s clear with its threshold and min_attempts with 1', () => {
    const c = parseConfig(
      `${MINIMAL}kpis: {dimensions: [cell, region], rules: [{name: low.attach, kpi: attach_success_rate, dimension: cell, below: 0.9}, {name: slow, kpi: setup_latency_p95_ms, dimension: region, above: 800, clear: 500, min_attempts: 20}]}\n`,
      'config.yaml',
      {},
    );
    expect(c.kpis.rules).toEqual([
      { name: 'low.attach', kpi: 'attach_success_rate', dimension: 'cell', below: 0.9, clear: 0.9, min_attempts: 1 },
      { name: 'slow', kpi: 'setup_latency_p95_ms', dimension: 'region', above: 800, clear: 500, min_attempts: 20 },
    ]);
  });

  it('names the key of a rule with neither or both thresholds', () => {
    expect(problems('kpis: {rules: [{name: a, kpi: attach_success_rate, dimension: cell, below: 0.9}, {name: b, kpi: drop_rate, dimension: region}]}')).toEqual([
      'config.yaml: kpis.rules[1].below: expected exactly one of below and above, got nothing',
    ]);
    expect(problems('kpis: {rules: [{name: a, kpi: attach_success_rate, dimension: cell, below: 0.9, above: 0.1}]}')).toEqual([
      'config.yaml: kpis.rules[0].above: expected exactly one of below and above, got 0.1',
    ]);
  });

  it('refuses a rate threshold outside [0, 1], a negative one, and a clear on the raising side', () => {
    expect(problems('kpis: {rules: [{name: a, kpi: handover_success_rate, dimension: cell, below: 1.5}]}')).toEqual([
      'config.yaml: kpis.rules[0].below: expected a share in [0, 1] for handover_success_rate, got 1.5',
    ]);
    expect(problems('kpis: {rules: [{name: a, kpi: drop_rate, dimension: cell, below: 0.1, clear: 2}]}')).toEqual([
      'config.yaml: kpis.rules[0].clear: expected a share in [0, 1] for drop_rate, got 2',
    ]);
    expect(problems('kpis: {rules: [{name: a, kpi: drop_rate, dimension: cell, above: -1}]}')).toEqual(['config.yaml: kpis.rules[0].above: expected a number >= 0, got -1']);
    expect(problems('kpis: {rules: [{name: a, kpi: attach_success_rate, dimension: cell, below: 0.9, clear: 0.8}]}')).toEqual([
      'config.yaml: kpis.rules[0].clear: expected at least below (0.9), got 0.8',
    ]);
    expect(problems('kpis: {rules: [{name: a, kpi: setup_latency_p95_ms, dimension: cell, above: 500, clear: 600}]}')).toEqual([
      'config.yaml: kpis.rules[0].clear: expected at most above (500), got 600',
    ]);
  });

  it('refuses a bad name, kpi, dimension and min_attempts, each at its key', () => {
    expect(problems('kpis: {rules: [{name: "a:b", kpi: nope, dimension: planet, below: 0.9, min_attempts: 0.5}]}')).toEqual([
      'config.yaml: kpis.rules[0].name: expected a rule name of 1 to 64 characters from [A-Za-z0-9_.-], got "a:b"',
      'config.yaml: kpis.rules[0].kpi: expected one of attach_success_rate, session_success_rate, handover_success_rate, drop_rate, setup_latency_p95_ms, got "nope"',
      'config.yaml: kpis.rules[0].dimension: expected one of cell, equipment, region, vendor, got "planet"',
      'config.yaml: kpis.rules[0].min_attempts: expected a positive integer, got 0.5',
    ]);
  });

  it('refuses a rule on a dimension that is not enabled, and a rule name used twice', () => {
    expect(
      problems('kpis: {dimensions: [cell], rules: [{name: a, kpi: attach_success_rate, dimension: region, below: 0.9}, {name: a, kpi: drop_rate, dimension: cell, above: 0.1}]}'),
    ).toEqual([
      'config.yaml: kpis.rules[0].dimension: expected a dimension enabled in kpis.dimensions (cell), got "region"',
      'config.yaml: kpis.rules[1].name: expected a unique rule name (rules[0] has it too), got "a"',
    ]);
  });

  it('refuses a window over 7 days, a negative lateness, and an empty, unknown or repeated dimension', () => {
    expect(problems('kpis: {window_ms: 604800001, lateness_ms: -1, dimensions: []}')).toEqual([
      'config.yaml: kpis.window_ms: expected a positive integer (at most 604800000), got 604800001',
      'config.yaml: kpis.lateness_ms: expected a non-negative integer, got -1',
      'config.yaml: kpis.dimensions: expected at least one dimension, got []',
    ]);
    expect(problems('kpis: {dimensions: [cell, galaxy]}')).toEqual(['config.yaml: kpis.dimensions[1]: expected one of cell, equipment, region, vendor, got "galaxy"']);
    expect(problems('kpis: {dimensions: [cell, region, cell]}')).toEqual(['config.yaml: kpis.dimensions[2]: expected each dimension once, got "cell"']);
    expect(problems('kpis: {window_ms: 1.5}')).toEqual(['config.yaml: kpis.window_ms: expected a positive integer, got 1.5']);
  });

  it('takes the topics and the section from the environment like every key', () => {
    const c = parseConfig(MINIMAL, 'config.yaml', { LUX_TOPICS_KPI_PARTIALS: 'p.x', LUX_KPIS_WINDOW_MS: '30000', LUX_KPIS_ENABLED: 'false' });
    expect(c.topics.kpi_partials).toBe('p.x');
    expect(c.kpis.window_ms).toBe(30_000);
    expect(c.kpis.enabled).toBe(false);
  });
});
