import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJsonLog } from '../../../shared/server/ports/log.js';

describe('createJsonLog', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes each level through the console method Lambda’s JSON format reads the level from', () => {
    const calls = (['info', 'warn', 'error'] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
    const log = createJsonLog();
    log.info('a', { n: 1 });
    log.warn('b');
    log.error('handler-failed', { error: 'AccessDeniedException' });
    expect(calls.map((spy) => spy.mock.calls.map(([line]) => JSON.parse(String(line)).event))).toEqual([['a'], ['b'], ['handler-failed']]);
    expect(JSON.parse(String(calls[2]!.mock.calls[0]![0]))).toMatchObject({ level: 'error', error: 'AccessDeniedException' });
  });
});
