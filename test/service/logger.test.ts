// The logger: one JSON object a line with a word level, ISO time and the component, filtered by the configured level.
import { describe, expect, it } from 'vitest';
import { componentLogger, createLogger } from '../../src/service/logger.js';

describe('createLogger', () => {
  it('writes JSON lines at or above the configured level', () => {
    const lines: string[] = [];
    const log = createLogger('warn', { write: (s: string) => void lines.push(s) });
    componentLogger(log, 'sink').info('hidden');
    componentLogger(log, 'sink').warn({ partition: 3 }, 'transaction aborted');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'warn', component: 'sink', partition: 3, msg: 'transaction aborted', pid: process.pid });
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(entry).not.toHaveProperty('hostname');
  });
});
