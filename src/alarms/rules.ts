// Alarm rules: validating `alarms.rules[]`, and evaluating each rule's windows as the watermark passes their ends.
//
// Evaluation of the window ending at E (once E <= watermark - lateness_ms), per equipment with counts or an open alarm:
// - an open alarm whose window count is below clear_below → one `cleared`, same alarm_id as its raise;
// - otherwise no open alarm and count >= threshold → one `raised`, alarm_id `<rule>:<equipment_id>:<E>`.
// An equipment that had no failure in a slide is still evaluated while it has data in the window or an open alarm,
// so when its count falls (to 0 if need be) the clear happens as soon as the window passes. Windows are evaluated in
// end order, one slide at a time; when no equipment is active the frontier jumps straight to the watermark.
// Suppression (maintenance at the window end, SPEC section 3) marks alarms; it never changes the episode logic.

import { LuxError } from '../errors.js';
import { ADD_COUNTED, WindowStore } from './windows.js';

/** One entry of `alarms.rules[]` (SPEC section 6). */
export interface RuleSpec {
  readonly name: string;
  readonly window_ms: number;
  readonly slide_ms: number;
  readonly threshold: number;
  readonly clear_below: number;
  readonly lateness_ms: number;
}

/** Is `equipmentId` under maintenance at `timeMs` (an intervention with start <= t < end)? */
export type MaintenanceLookup = (equipmentId: number, timeMs: number) => boolean;

export const NO_MAINTENANCE: MaintenanceLookup = () => false;

export type AlarmState = 'raised' | 'cleared';

/** One alarm decision; alarm-json.ts turns it into the SPEC section 4 object. */
export interface AlarmEvent {
  alarmId: string;
  rule: string;
  state: AlarmState;
  equipmentId: number;
  count: number;
  threshold: number;
  windowStartMs: number;
  windowEndMs: number;
  suppressed: boolean;
}

/** A bad `alarms.rules[i]` entry; the message names the key. */
export class AlarmConfigError extends LuxError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('E_CONFIG', `${key}: ${message}`);
    this.key = key;
    this.name = 'AlarmConfigError';
  }
}

const RULE_NAME = /^[A-Za-z0-9_.-]+$/;

/** Checks one raw `alarms.rules[index]` value and returns it typed. */
export function parseRule(raw: unknown, index: number): RuleSpec {
  const at = `alarms.rules[${index}]`;
  if (typeof raw !== 'object' || raw === null) throw new AlarmConfigError(at, 'expected an object');
  const r = raw as Record<string, unknown>;
  if (typeof r.name !== 'string' || !RULE_NAME.test(r.name)) {
    throw new AlarmConfigError(`${at}.name`, `expected a name of letters, digits, '_', '.', '-', got ${JSON.stringify(r.name)}`);
  }
  const int = (key: string, min: number): number => {
    const v = r[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new AlarmConfigError(`${at}.${key}`, `expected an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const slide_ms = int('slide_ms', 1);
  const window_ms = int('window_ms', 1);
  if (window_ms % slide_ms !== 0) {
    throw new AlarmConfigError(`${at}.window_ms`, `must be a multiple of slide_ms (${slide_ms}), got ${window_ms}`);
  }
  const threshold = int('threshold', 1);
  const clear_below = int('clear_below', 1);
  if (clear_below > threshold) {
    throw new AlarmConfigError(`${at}.clear_below`, `must be <= threshold (${threshold}), got ${clear_below}`);
  }
  const lateness_ms = int('lateness_ms', 0);
  return { name: r.name, window_ms, slide_ms, threshold, clear_below, lateness_ms };
}

/** Checks `alarms.rules[]`: each entry, and that names are unique. */
export function parseRules(raw: unknown): RuleSpec[] {
  if (!Array.isArray(raw)) throw new AlarmConfigError('alarms.rules', 'expected a list');
  const rules = raw.map(parseRule);
  const seen = new Set<string>();
  rules.forEach((r, i) => {
    if (seen.has(r.name)) throw new AlarmConfigError(`alarms.rules[${i}].name`, `duplicate rule name ${r.name}`);
    seen.add(r.name);
  });
  return rules;
}

export function alarmId(rule: string, equipmentId: number, raiseWindowEndMs: number): string {
  return `${rule}:${equipmentId}:${raiseWindowEndMs}`;
}

export interface RuleOptions {
  /** Extra slides the ring holds ahead of the frontier; default k + ceil(lateness_ms / slide_ms). */
  readonly aheadSlides?: number;
  readonly initialEquipment?: number;
  readonly maxEquipment?: number;
}

/** One rule: its window store and its evaluation. */
export class RuleWindows {
  readonly spec: RuleSpec;
  readonly store: WindowStore;
  raised = 0;
  cleared = 0;

  constructor(spec: RuleSpec, options: RuleOptions = {}, index = 0) {
    this.spec = spec;
    const k = spec.window_ms / spec.slide_ms;
    this.store = new WindowStore(
      {
        windowMs: spec.window_ms,
        slideMs: spec.slide_ms,
        aheadSlides: options.aheadSlides ?? k + Math.ceil(spec.lateness_ms / spec.slide_ms),
        initialEquipment: options.initialEquipment,
        maxEquipment: options.maxEquipment,
      },
      `alarms.rules[${index}]`,
    );
  }

  /** Counts one failure read from input `partition`; returns an ADD_* code. */
  add(equipmentId: number, timeMs: number, partition = 0): number {
    return this.store.add(equipmentId, timeMs, partition);
  }

  /** Open alarms of this rule. */
  openAlarms(): number {
    const st = this.store;
    let n = 0;
    for (let s = 0; s < st.highWater; s++) if (st.used[s] === 1 && st.open[s] === st.open[s]) n++;
    return n;
  }

  /** Evaluates every window with end <= baseWatermark - lateness_ms not evaluated yet; pushes decisions to `out`. */
  advance(baseWatermarkMs: number, maintenance: MaintenanceLookup, out: AlarmEvent[]): void {
    const st = this.store;
    const w = baseWatermarkMs - this.spec.lateness_ms;
    if (!(w > -Infinity)) return;
    st.initFrontier(w);
    const slide = st.slideMs;
    const wb = Math.floor(w / slide);
    while (st.lastBucket < wb) {
      if (st.active === 0) {
        // nothing counted: skip empty windows, but stop short of deferred events so their windows are evaluated
        let target = wb;
        if (st.deferredCount > 0) {
          const justBefore = st.deferredMin - 1;
          if (justBefore < target) target = justBefore > st.lastBucket ? justBefore : st.lastBucket + 1;
        }
        st.completeThrough(target);
        continue;
      }
      this.evaluate(st.lastBucket + 1, maintenance, out);
      st.completeThrough(st.lastBucket + 1);
    }
  }

  /** Evaluates the window ending at bucket `e` for every active equipment. */
  private evaluate(e: number, maintenance: MaintenanceLookup, out: AlarmEvent[]): void {
    const st = this.store;
    const spec = this.spec;
    const endMs = e * st.slideMs;
    const startMs = endMs - st.windowMs;
    const evictBelow = e - st.k; // head <= this: no later window covers the slot's data
    for (let s = 0; s < st.highWater; s++) {
      if (st.used[s] === 0) continue;
      // a slot restored from an instance whose frontier was ahead: that instance already decided this window
      if (e <= st.done[s]) continue;
      const count = st.windowCount(s, e);
      const open = st.open[s];
      if (open === open) {
        if (count < spec.clear_below) {
          const eq = st.keys[s];
          out.push({
            alarmId: alarmId(spec.name, eq, open),
            rule: spec.name,
            state: 'cleared',
            equipmentId: eq,
            count,
            threshold: spec.threshold,
            windowStartMs: startMs,
            windowEndMs: endMs,
            suppressed: maintenance(eq, endMs),
          });
          st.touch(s);
          st.open[s] = NaN;
          this.cleared++;
        }
      } else if (count >= spec.threshold) {
        const eq = st.keys[s];
        out.push({
          alarmId: alarmId(spec.name, eq, endMs),
          rule: spec.name,
          state: 'raised',
          equipmentId: eq,
          count,
          threshold: spec.threshold,
          windowStartMs: startMs,
          windowEndMs: endMs,
          suppressed: maintenance(eq, endMs),
        });
        st.touch(s);
        st.open[s] = endMs;
        this.raised++;
      }
      if (st.head[s] <= evictBelow && st.open[s] !== st.open[s]) st.release(s);
    }
  }
}

/** All configured rules, fed the same failures and the same watermark. */
export class RuleSet {
  readonly rules: RuleWindows[];
  maintenance: MaintenanceLookup;

  constructor(specs: readonly RuleSpec[], maintenance: MaintenanceLookup = NO_MAINTENANCE, options: RuleOptions = {}) {
    this.rules = specs.map((s, i) => new RuleWindows(s, options, i));
    this.maintenance = maintenance;
  }

  /** One failure record of input `partition`; returns how many rules counted it. */
  addFailure(equipmentId: number, timeMs: number, partition = 0): number {
    let n = 0;
    for (let i = 0; i < this.rules.length; i++) if (this.rules[i].add(equipmentId, timeMs, partition) === ADD_COUNTED) n++;
    return n;
  }

  /** Evaluates all rules up to the watermark; returns the decisions, in rule then window order. */
  advance(baseWatermarkMs: number, out: AlarmEvent[] = []): AlarmEvent[] {
    for (let i = 0; i < this.rules.length; i++) this.rules[i].advance(baseWatermarkMs, this.maintenance, out);
    return out;
  }

  openAlarms(): number {
    let n = 0;
    for (const r of this.rules) n += r.openAlarms();
    return n;
  }
}
