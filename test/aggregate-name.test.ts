import { describe, expect, it } from 'vitest';
import { AGGREGATE_NAME, aggregateNameProblem, aggregateOf, streamName } from '../src/aggregate-name.js';

describe('aggregate names and their streams', () => {
  it('takes a letter, then letters, digits or _, up to 64', () => {
    for (const name of ['counter', 'bank_account', 'A1', 'a'.repeat(64)]) expect(AGGREGATE_NAME.test(name), name).toBe(true);
    for (const name of ['', '1abc', '_x', 'has-dash', 'has space', 'a'.repeat(65), 'é'])
      expect(aggregateNameProblem(name), name).toContain('is not a valid aggregate name');
    expect(aggregateNameProblem('counter')).toBeUndefined();
  });

  it('names a stream <aggregate>-<id> and reads the aggregate back before the first dash', () => {
    expect(streamName('counter', 'abc-1')).toBe('counter-abc-1');
    expect(aggregateOf(streamName('counter', 'abc-1'))).toBe('counter');
    expect(aggregateOf('no_dash')).toBe('no_dash');
  });
});
