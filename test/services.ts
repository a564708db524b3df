/**
 * Tests that need a service (Redis, NATS) call `requireService` first. A missing service fails
 * the test with a message naming it, unless the user opted out with the environment variable the
 * README documents (THALO_SKIP_REDIS=1, THALO_SKIP_NATS=1), in which case the suite is skipped.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { Redis } from 'ioredis';
import { connect } from 'nats';

export interface Service {
  name: string;
  port: number;
  skipVariable: string;
}

export const REDIS: Service = { name: 'Redis', port: 6379, skipVariable: 'THALO_SKIP_REDIS' };
export const NATS: Service = { name: 'NATS with JetStream', port: 4222, skipVariable: 'THALO_SKIP_NATS' };

export function skipped(service: Service): boolean {
  return process.env[service.skipVariable] === '1';
}

export function reachable(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function requireService(service: Service): Promise<void> {
  if (!(await reachable(service.port))) {
    throw new Error(
      `${service.name} is not reachable on 127.0.0.1:${service.port}; start it, or set ${service.skipVariable}=1 to skip these tests`,
    );
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/**
 * A free port below the kernel's range of ephemeral ports, for a process that a test restarts on
 * the same port (a broker, a cluster node). `freePort()` and every outgoing connection take their
 * ports from that range, so while such a process is down, another test running at the same time
 * could take its port (it happened: a cluster node's port went to another test's node). Below the
 * range no port is handed out unasked.
 */
export async function restartablePort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // Not Linux: the range's usual start.
  }
  const bottom = 10_000;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = bottom + Math.floor(Math.random() * (low - bottom));
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port between ${bottom} and ${low - 1} after 100 tries`);
}

/** Start a private broker process and wait until its port answers. */
export async function startBroker(command: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await reachable(port)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${command} did not start on port ${port}`);
}

export async function stopBroker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Remove what a test left on the shared brokers: Redis keys (exact names, or `prefix*` patterns)
 * and JetStream streams. A broker the user opted out of is left alone.
 */
export async function removeBrokerData({
  redisKeys = [],
  natsStreams = [],
}: {
  redisKeys?: string[];
  natsStreams?: string[];
}): Promise<void> {
  if (redisKeys.length > 0 && !skipped(REDIS)) {
    const client = new Redis(REDIS.port, '127.0.0.1');
    try {
      const keys = (await Promise.all(redisKeys.map((key) => (key.endsWith('*') ? client.keys(key) : [key])))).flat();
      if (keys.length > 0) await client.del(...keys);
    } finally {
      client.disconnect();
    }
  }
  if (natsStreams.length > 0 && !skipped(NATS)) {
    const nc = await connect({ servers: `127.0.0.1:${NATS.port}` });
    try {
      const manager = await nc.jetstreamManager();
      for (const stream of natsStreams) await manager.streams.delete(stream).catch(() => undefined);
    } finally {
      await nc.close();
    }
  }
}
