// Reads the YAML config file, applies LUX_* environment overrides and validates it, reporting every problem by key path, value and expectation.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { z } from 'zod';
import { LuxError } from '../errors.js';
import { configSchema, type LuxConfig } from './schema.js';

export type { LuxConfig, AlarmRuleConfig } from './schema.js';
export { DEFAULTS, LIMITS } from './schema.js';

/** LUX_* variables that are not configuration keys (read elsewhere) and so are not reported as unknown. */
export const NON_CONFIG_ENV: readonly string[] = [
  'LUX_STATE_DIR',
  // the local development broker (src/kafka-local/broker.ts)
  'LUX_KAFKA_HOME',
  'LUX_KAFKA_PORT',
  'LUX_KAFKA_CONTROLLER_PORT',
  'LUX_KAFKA_VERSION',
  // src/kafka/features.ts: off turns the librdkafka features check at start into a warning
  'LUX_KAFKA_FEATURES_CHECK',
];

/** Prefix of the variables that set one librdkafka property: LUX_KAFKA_EXTRA_SECURITY_PROTOCOL → kafka.extra["security.protocol"]. */
const EXTRA_PREFIX = 'LUX_KAFKA_EXTRA_';

/**
 * Loads, overrides and validates the configuration.
 *
 * Environment rule: a key path's variable is `LUX_` + the path with dots as underscores, uppercased
 * (kafka.brokers → LUX_KAFKA_BROKERS, pipeline.workers → LUX_PIPELINE_WORKERS). The value is read as a YAML
 * scalar or flow collection (`8`, `true`, `[a:9092, b:9092]`, `[{name: r, window_ms: 60000, ...}]`), except
 * for string-valued keys, which take it verbatim. An empty value is ignored (systemd's way of unsetting).
 * A LUX_* variable that names no key is an error, like an unknown key in the file.
 *
 * @throws LuxError E_CONFIG, its message holding every problem, one per line.
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LuxConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LuxError('E_CONFIG', `${file}: cannot read the config file: ${(e as Error).message}`, { cause: e });
  }
  return parseConfig(text, file, env);
}

/** Same as loadConfig, from the file's text (`file` only names it in messages). */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LuxConfig {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const at = e.linePos?.[0];
      const where = at === undefined ? file : `${file}:${at.line}:${at.col}`;
      return `${where}: invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw new LuxError('E_CONFIG', lines.join('\n'));
  }
  const raw: unknown = doc.toJS() ?? {};
  const problems: string[] = [];
  if (!isMap(raw)) {
    throw new LuxError('E_CONFIG', `${file}: expected a map of settings at the top level, got ${show(raw)}`);
  }

  const sources = applyEnv(raw, env, problems);

  const result = configSchema.safeParse(raw, { reportInput: true });
  if (result.success && problems.length === 0) return result.data;
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...describe(issue, file, sources));
  }
  throw new LuxError('E_CONFIG', problems.join('\n'));
}

/** The environment variable that overrides a key path, by the rule above. */
export function envName(path: readonly string[]): string {
  return `LUX_${path.join('_').toUpperCase()}`;
}

/** One overridable key: its path and whether the value is taken verbatim as a string. */
interface EnvKey {
  path: string[];
  verbatim: boolean;
}

let envKeysCache: Map<string, EnvKey> | undefined;

/** Every overridable key path of the schema by variable name (leaves, plus lists and maps as a whole). */
export function envKeys(): Map<string, EnvKey> {
  if (envKeysCache !== undefined) return envKeysCache;
  const keys = new Map<string, EnvKey>();
  const walk = (schema: z.ZodType, path: string[]): void => {
    const s = unwrap(schema);
    const def = s.def as { type: string; shape?: Record<string, z.ZodType> };
    if (def.type === 'object' && def.shape !== undefined) {
      for (const [k, child] of Object.entries(def.shape)) walk(child, [...path, k]);
      return;
    }
    keys.set(envName(path), { path, verbatim: def.type === 'string' });
  };
  walk(configSchema, []);
  envKeysCache = keys;
  return keys;
}

/** Writes the LUX_* overrides into the raw document; returns which key paths came from which variable. */
function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: string[]): Map<string, string> {
  const keys = envKeys();
  const sources = new Map<string, string>();
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('LUX_') || NON_CONFIG_ENV.includes(name)) continue;
    const value = env[name];
    if (value === undefined || value === '') continue;
    const key = keys.get(name);
    if (key !== undefined) {
      const parsed = key.verbatim ? value : parseScalar(value, name, problems);
      if (parsed === PARSE_FAILED) continue;
      if (key.path.join('.') === 'kafka.extra' && isMap(parsed)) {
        // The whole map merges into the file's, so one variable need not repeat every property.
        const current = getAt(raw, key.path);
        setAt(raw, key.path, { ...(isMap(current) ? current : {}), ...parsed });
      } else {
        setAt(raw, key.path, parsed);
      }
      sources.set(formatPath(key.path), name);
    } else if (name.startsWith(EXTRA_PREFIX) && name.length > EXTRA_PREFIX.length) {
      const property = name.slice(EXTRA_PREFIX.length).toLowerCase().replaceAll('_', '.');
      // librdkafka properties are dotted lower case; a value is always passed as the string it was given.
      const current = getAt(raw, ['kafka', 'extra']);
      setAt(raw, ['kafka', 'extra'], { ...(isMap(current) ? current : {}), [property]: value });
      sources.set(formatPath(['kafka', 'extra', property]), name);
    } else {
      problems.push(`${name}: unknown LUX_* environment variable (it names no configuration key${suggest(name, [...keys.keys()])})`);
    }
  }
  return sources;
}

const PARSE_FAILED = Symbol('parse failed');

function parseScalar(value: string, name: string, problems: string[]): unknown {
  const doc = YAML.parseDocument(value);
  if (doc.errors.length > 0) {
    problems.push(`${name}: cannot read ${show(value)} as a YAML value: ${doc.errors[0]!.message.split('\n')[0]}`);
    return PARSE_FAILED;
  }
  return doc.toJS();
}

/** Turns one zod issue into messages `<source>: <key path>: expected …, got …`. */
function describe(issue: z.core.$ZodIssue, file: string, sources: Map<string, string>): string[] {
  const path = formatPath(issue.path);
  const source = sourceOf(issue.path, file, sources);
  const at = path === '' ? `${source}:` : `${source}: ${path}:`;
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(issue.path);
    return issue.keys.map((k) => {
      const full = formatPath([...issue.path, k]);
      const hint = allowed.length > 0 ? ` (expected one of: ${allowed.join(', ')}${suggest(k, allowed)})` : '';
      return `${sourceOf([...issue.path, k], file, sources)}: ${full}: unknown key${hint}`;
    });
  }
  const input = 'input' in issue ? issue.input : undefined;
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && input === undefined) {
    return [`${at} required key is missing (${issue.message})`];
  }
  return [`${at} ${issue.message}, got ${show(input)}`];
}

function sourceOf(path: readonly PropertyKey[], file: string, sources: Map<string, string>): string {
  for (let n = path.length; n > 0; n--) {
    const name = sources.get(formatPath(path.slice(0, n)));
    if (name !== undefined) return name;
  }
  return file;
}

/** `alarms.rules[0].slide_ms` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** The keys the schema accepts at a path (for "unknown key" messages). */
function allowedKeys(path: readonly PropertyKey[]): string[] {
  let s: z.ZodType = configSchema;
  for (const p of path) {
    s = unwrap(s);
    const def = s.def as { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType };
    if (typeof p === 'number' && def.type === 'array' && def.element !== undefined) s = def.element;
    else if (def.type === 'object' && def.shape !== undefined && def.shape[String(p)] !== undefined)
      s = def.shape[String(p)]!;
    else return [];
  }
  const def = unwrap(s).def as { type: string; shape?: Record<string, z.ZodType> };
  return def.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : [];
}

/** Strips defaults, optionals and transforms down to the schema that checks the value. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = s.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if ((def.type === 'default' || def.type === 'prefault' || def.type === 'optional') && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
}

/** ` ; did you mean "x"?` for a near miss (edit distance ≤ 2), else ''. */
function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : `; did you mean "${best}"?`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** A value as it appears in a message: strings quoted, collections as short JSON. */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getAt(root: Record<string, unknown>, path: readonly string[]): unknown {
  let cur: unknown = root;
  for (const p of path) cur = isMap(cur) ? cur[p] : undefined;
  return cur;
}

function setAt(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = root;
  for (const p of path.slice(0, -1)) {
    const next = cur[p];
    if (next === undefined || next === null) cur[p] = {};
    else if (!isMap(next)) return; // the file's own value is wrong; validation reports it
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}
