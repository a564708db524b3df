/**
 * The expected-version rule as a unit: parse and validate (naming the field), when it holds, and
 * the one conflict error every layer raises.
 */
import { describe, expect, it } from 'vitest';
import { isThaloError } from '../src/errors.js';
import {
  checkExpectedVersion,
  expectedVersionConflict,
  expectedVersionHolds,
  parseExpectedVersion,
  validateExpectedVersion,
} from '../src/expected-version.js';

function refusal(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    expect(isThaloError(error, 'INVALID_ARGUMENT')).toBe(true);
    return error as Error;
  }
  throw new Error('expected a refusal');
}

describe('validateExpectedVersion (the Node API)', () => {
  it('takes the keywords and safe non-negative integers; undefined is any', () => {
    for (const value of ['any', 'no_stream', 'exists', 0, 7, Number.MAX_SAFE_INTEGER] as const)
      expect(validateExpectedVersion(value, 'options.expected')).toBe(value);
    expect(validateExpectedVersion(undefined, 'options.expected')).toBe('any');
  });

  it('refuses anything else with INVALID_ARGUMENT naming the field and the value', () => {
    for (const bad of [-1, 1.5, Number.NaN, 'latest', '3', null, {}, true]) {
      const error = refusal(() => validateExpectedVersion(bad, 'options.expectedVersion'));
      expect(error.message).toMatch(
        /^options\.expectedVersion must be "any", "no_stream", "exists" or an integer from 0 to 9007199254740991, got /,
      );
    }
    expect(refusal(() => validateExpectedVersion('latest', 'options.expected')).message).toContain('got "latest"');
  });
});

describe('parseExpectedVersion (headers, flags, JSON fields)', () => {
  it('also takes an exact version written as decimal text', () => {
    expect(parseExpectedVersion('0', 'header Thalo-Expected-Version')).toBe(0);
    expect(parseExpectedVersion('42', 'header Thalo-Expected-Version')).toBe(42);
    expect(parseExpectedVersion(String(Number.MAX_SAFE_INTEGER), 'h')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseExpectedVersion('no_stream', 'h')).toBe('no_stream');
    expect(parseExpectedVersion(3, 'h')).toBe(3);
  });

  it('refuses text that would round, or is not plain decimal, quoting it as sent', () => {
    for (const bad of ['9007199254740993', '99999999999999999', '-1', '01', '1.0', ' 1', '', 'soon', '0x10']) {
      const error = refusal(() => parseExpectedVersion(bad, 'header Thalo-Expected-Version'));
      expect(error.message).toContain('header Thalo-Expected-Version must be');
      expect(error.message).toContain(`got ${JSON.stringify(bad)}`);
    }
  });

  it('says when a JSON number was rounded before anyone saw it', () => {
    const error = refusal(() => parseExpectedVersion(JSON.parse('9007199254740993'), 'commands[0].expectedVersion'));
    expect(error.message).toContain('commands[0].expectedVersion must be');
    expect(error.message).toContain('cannot carry exactly');
  });
});

describe('expectedVersionHolds', () => {
  it('any always; no_stream at 0; exists past 0; a number exactly', () => {
    expect([0, 1, 5].map((actual) => expectedVersionHolds('any', actual))).toEqual([true, true, true]);
    expect([0, 1].map((actual) => expectedVersionHolds('no_stream', actual))).toEqual([true, false]);
    expect([0, 1].map((actual) => expectedVersionHolds('exists', actual))).toEqual([false, true]);
    expect([1, 2, 3].map((actual) => expectedVersionHolds(2, actual))).toEqual([false, true, false]);
    expect(expectedVersionHolds(0, 0)).toBe(true);
  });
});

describe('the conflict', () => {
  it('is WRONG_EXPECTED_VERSION naming stream, expected and actual, in data and message', () => {
    const exact = expectedVersionConflict('counter-a', 2, 3);
    expect(isThaloError(exact, 'WRONG_EXPECTED_VERSION')).toBe(true);
    expect(exact.data).toEqual({ stream: 'counter-a', expected: 2, actual: 3 });
    expect(exact.message).toBe('stream "counter-a" expected version 2, but it is at version 3');
    expect(expectedVersionConflict('counter-a', 'no_stream', 1).message).toBe(
      `stream "counter-a" expected 'no_stream', but it is at version 1`,
    );
  });

  it('checkExpectedVersion throws it only when the rule does not hold', () => {
    expect(() => checkExpectedVersion('s', 'exists', 1)).not.toThrow();
    let thrown: unknown;
    try {
      checkExpectedVersion('s', 'exists', 0);
    } catch (error) {
      thrown = error;
    }
    expect(isThaloError(thrown, 'WRONG_EXPECTED_VERSION')).toBe(true);
    expect((thrown as Error).message).toBe(`stream "s" expected 'exists', but it is at version 0`);
  });
});
