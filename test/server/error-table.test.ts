/**
 * docs/http-api.md lists every code the API can answer (issue 13): each code of the engine's and
 * the server's vocabularies must have a row in its error table, with the status the server gives it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { statusOf } from '../../src/server/api-errors.js';
import { DOCUMENTED_CODES } from '../torture/bad-inputs.js';

/** Codes raised only where no HTTP request can see them, and why. */
const NOT_OVER_HTTP: Record<string, string> = {
  STORE_LOCKED: 'raised when a second runtime opens the data directory: the runtime exits before it listens',
  STORE_SCHEMA_UNSUPPORTED:
    'raised when the runtime opens a PostgreSQL schema or an LMDB data directory written by a newer release: it exits before it listens',
  BUILD_FAILED: 'raised by `thalo build`, which runs no server',
  RELAY_UNREACHABLE:
    "a relay's failure: its lastError and the runtime's log show it (docs/http-api.md, Projections), no request answers with it",
  RELAY_REJECTED:
    "a relay's failure: its lastError and the runtime's log show it (docs/http-api.md, Projections), no request answers with it",
};

/** The string members of the union type `name` in a TypeScript source file. */
function unionMembers(file: string, name: string): string[] {
  const source = readFileSync(file, 'utf8');
  const start = source.indexOf(`export type ${name} =`);
  expect(start, `${name} in ${file}`).toBeGreaterThanOrEqual(0);
  const body = source.slice(start, source.indexOf(';\n', start));
  return [...body.matchAll(/\|\s*'([A-Z_]+)'/g)].map((m) => m[1]!);
}

/** `code → status` from the error table's rows (`| 409 | \`A\`, \`B\` | … |`). */
function documented(): Map<string, number> {
  const table = new Map<string, number>();
  for (const line of readFileSync('docs/http-api.md', 'utf8').split('\n')) {
    const row = /^\| (\d{3}) \| ([^|]+) \|/.exec(line);
    if (!row) continue;
    for (const code of row[2]!.matchAll(/`([A-Z_]+)`/g)) table.set(code[1]!, Number(row[1]));
  }
  return table;
}

describe('docs/http-api.md: the error table', () => {
  const table = documented();
  const codes = [...unionMembers('src/errors.ts', 'ThaloErrorCode'), ...unionMembers('src/server/api-errors.ts', 'ApiErrorCode')];

  it('has a row for every code the API can answer, with the status the server gives it', () => {
    const answerable = codes.filter((code) => !(code in NOT_OVER_HTTP));
    expect(answerable.length).toBeGreaterThan(30);
    expect(
      answerable.filter((code) => !table.has(code)),
      'codes without a row',
    ).toEqual([]);
    expect(
      answerable
        .filter((code) => table.has(code) && table.get(code) !== statusOf(code))
        .map((code) => `${code}: docs ${table.get(code)}, server ${statusOf(code)}`),
    ).toEqual([]);
  });

  it('documents no code that does not exist, and holds every code the torture test expects', () => {
    expect(
      [...table.keys()].filter((code) => !codes.includes(code)),
      'rows for unknown codes',
    ).toEqual([]);
    expect(
      [...DOCUMENTED_CODES].filter((code) => !table.has(code)),
      'torture codes without a row',
    ).toEqual([]);
  });
});
