// The torture run's verdict: every output topic read back read_committed and compared with the one-pass reference — records exactly once, in order per input partition and byte for byte; dead letters once with their reason; alarms and KPI objects exactly the reference's.
import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { kafkaConnection, type Message } from '../../src/kafka/client.js';
import { readToEnd } from '../../src/kafka/topic-reader.js';
import type { TortureInput } from './input.js';
import type { RunTopics } from './instances.js';
import { alarmLine, digest, TORTURE_RULE, type DecodeReference } from './reference.js';

export interface Verdict {
  /** enriched records */
  records: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** records whose bytes differ from lux decode's, or that name no record of the input */
  different: number;
  deadLetters: number;
  deadLettersLost: number;
  deadLettersDuplicated: number;
  /** dead letters with another reason, another source, or other bytes */
  deadLettersWrong: number;
  alarms: number;
  /** alarms missing, extra or repeated against the reference */
  alarmDiffs: number;
  kpis: number;
  kpiWindows: number;
  kpiMissing: number;
  kpiExtra: number;
  kpiDuplicated: number;
  kpiDifferent: number;
  /** a few examples of each kind of difference */
  examples: string[];
}

export function kpiDiffs(v: Verdict): number {
  return v.kpiMissing + v.kpiExtra + v.kpiDuplicated + v.kpiDifferent;
}

export function verdictOk(v: Verdict): boolean {
  return (
    v.lost + v.duplicated + v.outOfOrder + v.different === 0 &&
    v.deadLettersLost + v.deadLettersDuplicated + v.deadLettersWrong === 0 &&
    v.alarmDiffs === 0 &&
    kpiDiffs(v) === 0
  );
}

const READ_TIMEOUT_MS = 30 * 60_000;
const MAX_EXAMPLES = 5;

/** `"equipment_id":N,"frame_seq":N,"record_index":N` — the writer's fixed field order, right after event_time. */
const RECORD_ID = /"equipment_id":(\d+),"frame_seq":(\d+),"record_index":(\d+)/;

function header(m: Message, name: string): string | undefined {
  for (const h of m.headers ?? []) {
    const v = (h as Record<string, Buffer | string | undefined>)[name];
    if (v !== undefined) return v.toString();
  }
  return undefined;
}

/**
 * `alarmDiffFile`: where every alarm difference is written, one a line (`extra` or `missing`, the alarm line, and for an
 * extra one where it was read and its window and emitted_at), when there is any; the examples show only a few.
 */
export async function verifyRun(
  bootstrap: string,
  topics: RunTopics,
  input: TortureInput,
  ref: DecodeReference,
  alarms: readonly string[],
  frameOffsets: Float64Array,
  alarmDiffFile?: string,
): Promise<Verdict> {
  const conn = kafkaConnection(bootstrap);
  const v: Verdict = {
    records: 0, lost: 0, duplicated: 0, outOfOrder: 0, different: 0,
    deadLetters: 0, deadLettersLost: 0, deadLettersDuplicated: 0, deadLettersWrong: 0,
    alarms: 0, alarmDiffs: 0,
    kpis: 0, kpiWindows: ref.kpiWindows, kpiMissing: 0, kpiExtra: 0, kpiDuplicated: 0, kpiDifferent: 0,
    examples: [],
  };
  const example = (kind: string, text: string, count: number): void => {
    if (count <= MAX_EXAMPLES) v.examples.push(`${kind}: ${text}`);
  };
  const read = (topic: string, onMessage: (m: Message) => void) => readToEnd(conn, topic, onMessage, { timeoutMs: READ_TIMEOUT_MS, what: 'torture verdict', batch: 5000 });

  // ── enriched records: each placed by (equipment, frame_seq, record_index) at its position in lux decode's output
  const seen = new Uint8Array(input.records);
  const lastOf = new Map<number, number>();
  await read(topics.enriched, (m) => {
    v.records++;
    const value = m.value ?? Buffer.alloc(0);
    const id = RECORD_ID.exec(value.toString('latin1', 0, Math.min(value.length, 160)));
    const frames = id === null ? undefined : input.framesOf.get(Number(id[1]));
    const frame = frames === undefined ? undefined : frames[Number(id![2])];
    const slot = frame === undefined || input.frameSlot[frame] < 0 || Number(id![3]) >= input.frameRecords[frame] ? -1 : input.frameSlot[frame] + Number(id![3]);
    if (slot < 0) {
      v.different++;
      example('unknown record', `${m.topic}/${m.partition}@${m.offset}: ${value.toString('utf8', 0, 120)}`, v.different);
      return;
    }
    const [hi, lo] = digest(value);
    if (hi !== ref.hashHi[slot] || lo !== ref.hashLo[slot]) {
      v.different++;
      example('different record', `${m.topic}/${m.partition}@${m.offset} (record ${slot} of lux decode's output)`, v.different);
    }
    if (seen[slot] > 0) {
      v.duplicated++;
      example('duplicated record', `${id![0]} again at ${m.topic}/${m.partition}@${m.offset}`, v.duplicated);
      if (seen[slot] < 255) seen[slot]++;
      return;
    }
    seen[slot] = 1;
    // an equipment's records come from one input partition and go to one output partition (key = equipment id): they
    // must come in input order
    const eq = Number(id![1]);
    const last = lastOf.get(eq) ?? -1;
    if (slot < last) {
      v.outOfOrder++;
      example('out of order', `${id![0]} after record ${last} of lux decode's output, at ${m.topic}/${m.partition}@${m.offset}`, v.outOfOrder);
    } else lastOf.set(eq, slot);
  });
  for (let s = 0; s < input.records; s++) {
    if (seen[s] === 0) {
      v.lost++;
      example('lost record', `record ${s} of lux decode's output`, v.lost);
    }
  }

  // ── dead letters: the broken frames, by their source partition and offset
  const expectedDlq = new Map<string, { frame: number; reason: string }>();
  for (const [frame, reason] of ref.deadLetters) expectedDlq.set(`${input.framePartition[frame]}:${frameOffsets[frame]}`, { frame, reason });
  const dlqSeen = new Set<string>();
  await read(topics.dlq, (m) => {
    v.deadLetters++;
    const where = `${header(m, 'lux.source.partition')}:${header(m, 'lux.source.offset')}`;
    const want = expectedDlq.get(where);
    if (header(m, 'lux.source.topic') !== topics.raw || want === undefined) {
      v.deadLettersWrong++;
      example('unexpected dead letter', `${m.topic}/${m.partition}@${m.offset} from ${header(m, 'lux.source.topic')}/${where}`, v.deadLettersWrong);
      return;
    }
    if (dlqSeen.has(where)) {
      v.deadLettersDuplicated++;
      example('duplicated dead letter', `frame ${want.frame} (${where})`, v.deadLettersDuplicated);
      return;
    }
    dlqSeen.add(where);
    const reason = header(m, 'lux.error');
    if (reason !== want.reason || m.key?.toString() !== String(input.frameEquipment[want.frame])) {
      v.deadLettersWrong++;
      example('wrong dead letter', `frame ${want.frame}: reason ${reason}, lux decode says ${want.reason}`, v.deadLettersWrong);
    }
  });
  for (const [where, want] of expectedDlq) {
    if (!dlqSeen.has(where)) {
      v.deadLettersLost++;
      example('lost dead letter', `frame ${want.frame} (${where}, ${want.reason})`, v.deadLettersLost);
    }
  }

  // ── alarms: the rule's decisions, as a multiset against the reference's
  const got: string[] = [];
  /** per alarm line, where each copy was read: `<topic partition>@<offset> window_end=… emitted_at=…` */
  const whereGot = new Map<string, string[]>();
  await read(topics.alarms, (m) => {
    const a = JSON.parse(m.value?.toString() ?? '{}') as { alarm_id: string; rule: string; state: string; count: number; suppressed: boolean; window_end: string; emitted_at: string };
    if (a.rule !== TORTURE_RULE.name) return;
    v.alarms++;
    const line = alarmLine({ alarmId: a.alarm_id, state: a.state, count: a.count, suppressed: a.suppressed });
    got.push(line);
    const where = `${m.partition}@${m.offset} window_end=${a.window_end} emitted_at=${a.emitted_at}`;
    const list = whereGot.get(line);
    if (list === undefined) whereGot.set(line, [where]);
    else list.push(where);
  });
  got.sort();
  const diffs: string[] = [];
  const want = [...alarms];
  let i = 0;
  let j = 0;
  while (i < got.length || j < want.length) {
    if (j >= want.length || (i < got.length && got[i] < want[j])) {
      v.alarmDiffs++;
      example('alarm not in the reference (or repeated)', got[i], v.alarmDiffs);
      diffs.push(`extra ${got[i]} read at ${(whereGot.get(got[i]) ?? []).join(' and ')}`);
      i++;
    } else if (i >= got.length || want[j] < got[i]) {
      v.alarmDiffs++;
      example('reference alarm missing', want[j], v.alarmDiffs);
      diffs.push(`missing ${want[j]}`);
      j++;
    } else {
      i++;
      j++;
    }
  }

  if (alarmDiffFile !== undefined && diffs.length > 0) fs.writeFileSync(alarmDiffFile, `${diffs.join('\n')}\n`);

  // ── KPI objects: each (window, dimension, key) once, equal to lux decode --kpis
  const kpiSeen = new Set<string>();
  await read(topics.kpis, (m) => {
    v.kpis++;
    const k = JSON.parse(m.value?.toString() ?? '{}') as Record<string, unknown>;
    const id = `${k.window_start as string} ${k.dimension as string}:${k.key as string}`;
    const expected = ref.kpis.get(id);
    if (expected === undefined) {
      v.kpiExtra++;
      example('KPI object not in the reference', id, v.kpiExtra);
      return;
    }
    if (kpiSeen.has(id)) {
      v.kpiDuplicated++;
      example('KPI object written twice', id, v.kpiDuplicated);
      return;
    }
    kpiSeen.add(id);
    if (!isDeepStrictEqual(k, JSON.parse(expected))) {
      v.kpiDifferent++;
      example('KPI object differs', `${id}: ${m.value?.toString()} — lux decode: ${expected}`, v.kpiDifferent);
    }
  });
  for (const id of ref.kpis.keys()) {
    if (!kpiSeen.has(id)) {
      v.kpiMissing++;
      example('KPI object missing', id, v.kpiMissing);
    }
  }
  return v;
}
