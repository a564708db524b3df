/**
 * The pure parts of the connection limits: the default limit read from `/proc/self/limits`, the
 * request timeout's Node options, and the rate of the "refused" log line.
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  FALLBACK_MAX_CONNECTIONS,
  defaultMaxConnections,
  logRefusedConnections,
  requestTimeoutOptions,
} from '../../src/server/connection-limits.js';

const LIMITS = (soft: string, hard = soft) => `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files
Max locked memory         8388608              8388608              bytes
`;

describe('defaultMaxConnections', () => {
  it('leaves descriptors for the runtime under the soft open-file limit', () => {
    expect(defaultMaxConnections(2, LIMITS('1024', '4096'))).toBe(1024 - 64 - 2 * 8);
    expect(defaultMaxConnections(8, LIMITS('1048576'))).toBe(1048576 - 64 - 8 * 8);
    // A small limit and many workers: half of the limit still serves connections.
    expect(defaultMaxConnections(64, LIMITS('256'))).toBe(128);
  });

  it('falls back to a fixed number when the limit cannot be read or is unlimited', () => {
    expect(defaultMaxConnections(2, '')).toBe(FALLBACK_MAX_CONNECTIONS);
    expect(defaultMaxConnections(2, LIMITS('unlimited'))).toBe(FALLBACK_MAX_CONNECTIONS);
    expect(defaultMaxConnections(2, 'no such line')).toBe(FALLBACK_MAX_CONNECTIONS);
  });

  it("reads this process's limit on Linux", () => {
    if (process.platform !== 'linux') return;
    expect(defaultMaxConnections(2)).toBeGreaterThan(0);
    expect(defaultMaxConnections(2)).not.toBe(FALLBACK_MAX_CONNECTIONS);
  });
});

describe('requestTimeoutOptions', () => {
  it('checks deadlines often enough for the timeout to fire near its time', () => {
    expect(requestTimeoutOptions(30_000)).toEqual({ requestTimeout: 30_000, headersTimeout: 30_000, connectionsCheckingInterval: 1_000 });
    expect(requestTimeoutOptions(1_000)).toEqual({ requestTimeout: 1_000, headersTimeout: 1_000, connectionsCheckingInterval: 250 });
    expect(requestTimeoutOptions(1).connectionsCheckingInterval).toBe(1);
  });
});

describe('logRefusedConnections', () => {
  it('logs the first refusal at once and counts the rest into one line per interval', async () => {
    const server = Object.assign(new EventEmitter(), { maxConnections: 5 }) as unknown as Server;
    const lines: { fields: Record<string, unknown>; message: string }[] = [];
    let lineLogged: () => void = () => undefined;
    const logger = {
      warn(fields: Record<string, unknown>, message: string) {
        lines.push({ fields, message });
        lineLogged();
      },
    } as unknown as Logger;
    const stop = logRefusedConnections(server, logger, 50);

    server.emit('drop', { remoteAddress: '10.0.0.1' });
    expect(lines).toEqual([
      {
        fields: { refused: 1, maxConnections: 5, remoteAddress: '10.0.0.1' },
        message: 'refused 1 connection(s): 5 connections are open, the limit (--max-connections)',
      },
    ]);
    const second = new Promise<void>((resolve) => (lineLogged = resolve));
    for (let i = 0; i < 99; i++) server.emit('drop', { remoteAddress: '10.0.0.2' });
    expect(lines).toHaveLength(1);
    await second;
    expect(lines[1]!.fields).toEqual({ refused: 99, maxConnections: 5, remoteAddress: '10.0.0.2' });

    server.emit('drop', {});
    stop();
    // Stopping reports what was still counted, and listens no more.
    expect(lines.map((l) => l.fields.refused)).toEqual([1, 99, 1]);
    server.emit('drop', {});
    expect(lines).toHaveLength(3);
  });
});
