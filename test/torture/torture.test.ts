// The torture run, small (issue 16): two instances, a few hundred thousand records, five SIGKILLs and a broker restart while the work is in flight; nothing lost, nothing twice, nothing out of order, alarms and KPIs as the one-pass reference.
import { expect, it } from 'vitest';
import { TORTURE_SMALL } from '../../bench/torture/options.js';
import { runTorture } from '../../bench/torture/torture.js';

// Its own broker (LUX's tests: 19500–19599); TEST_TORTURE_BROKER_PORT moves it where several checkouts share a machine.
const PORT = Number(process.env.TEST_TORTURE_BROKER_PORT ?? 19540);

it('survives SIGKILLs, a broker restart and rebalances with every output exactly as the one-pass reference', async () => {
  const lines: string[] = [];
  const result = await runTorture({ ...TORTURE_SMALL, port: PORT, seed: Number(process.env.TEST_TORTURE_SEED ?? 16) }, (l) => {
    lines.push(l);
    process.stderr.write(`${l}\n`);
  });
  process.stderr.write(`${result.summary}\n`);
  expect(result.error, lines.join('\n')).toBeUndefined();
  expect(result.kills).toBe(TORTURE_SMALL.kills);
  expect(result.brokerRestarts).toBe(TORTURE_SMALL.brokerRestarts);
  expect(result.selfExits).toEqual([]);
  expect(result.summary).toMatch(/ lost=0 duplicated=0 out_of_order=0 different=0 /);
  expect(result.summary).toMatch(/ dead_letter_diffs=0 /);
  expect(result.summary).toMatch(/ alarm_diffs=0 /);
  expect(result.summary).toMatch(/ kpi_diffs=0 /);
  expect(result.ok, result.summary).toBe(true);
}, 900_000);
