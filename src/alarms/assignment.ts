// Taking up and handing over input partitions: a newly assigned partition's committed window state is read back before any of its records, a revoked one's is dropped after its last commit.
import type { KafkaConnection } from '../kafka/client.js';
import { KafkaError } from '../kafka/errors.js';
import type { Logger } from '../service/logger.js';
import type { AlarmEngine } from './alarm-thread.js';
import { readChangelog } from './changelog.js';
import { assembleSnapshot } from './state-codec.js';

export interface AlarmAssignmentOptions {
  engine: AlarmEngine;
  conn: KafkaConnection;
  stateTopic: string;
  groupId: string;
  log: Logger;
  /** reading the state topic back */
  timeoutMs: number;
}

/**
 * Before any record of the new partitions is read: their committed changelog values, merged into the running
 * windows. A failure ends the pipeline (never a partial start: the partition would count from nothing).
 */
export async function takeUpPartitions(o: AlarmAssignmentOptions, partitions: readonly number[]): Promise<void> {
  const t0 = Date.now();
  const found = await readChangelog(o.conn, o.stateTopic, o.groupId, partitions, o.timeoutMs);
  // Declared before the restore, so a partition with no committed state (nothing was ever committed for it) holds the
  // watermark back from the start. Declared after it, the alarm thread could compute a watermark in between over the
  // restored partitions alone (it checks for due windows while the main thread is busy), a transaction could then
  // decide windows that the other partition's first records still belong to, and those records would count as late.
  o.engine.assign([...partitions]);
  const states: Buffer[] = [];
  let equipment = 0;
  for (const [partition, c] of found) {
    try {
      states.push(assembleSnapshot(partition, c.partition, c.equipment));
    } catch (err) {
      throw new KafkaError(`${o.stateTopic}: the alarm state of partition ${partition} cannot be read: ${(err as Error).message}`, {
        role: 'consumer',
        topic: o.stateTopic,
        cause: err,
      });
    }
    equipment += c.equipment.length;
  }
  if (states.length > 0) {
    const rules = await o.engine.restore(states);
    o.log.info({ partitions, restored: states.length, equipment, ms: Date.now() - t0, rules }, 'alarm windows restored from the state changelog');
  }
}

/** After the revoked partitions' last transaction (their last state is in it): their windows are dropped. */
export async function handOverPartitions(o: AlarmAssignmentOptions, partitions: readonly number[]): Promise<void> {
  await o.engine.forget(partitions);
}
