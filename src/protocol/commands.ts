/**
 * A command's options and its outcome as every side sees them: the engine returns them, the
 * workers send them back across threads, the server writes them as HTTP bodies and the client
 * reads them. They live here, not in the engine, so that the workers and the client read the
 * wire format without importing the engine.
 */
import type { ExpectedVersion } from '../expected-version.js';
import type { EventMetadata } from '../store/types.js';

export interface ExecuteOptions {
  /** What the command expects of the aggregate's stream; a mismatch fails with `WRONG_EXPECTED_VERSION`. */
  expectedVersion?: ExpectedVersion;
  /** Idempotency key: executing the same command id again returns the original result and appends nothing. */
  commandId?: string;
  correlationId?: string;
  causationId?: string;
  /** Free-form headers stored with every event of the command. */
  headers?: Record<string, string>;
}

/** A stored event with its data decoded from msgpack. */
export interface ExecutedEvent {
  position: number;
  stream: string;
  seq: number;
  id: string;
  type: string;
  data: unknown;
  timestamp: number;
  metadata: EventMetadata;
  /**
   * Only on an event whose stored bytes do not decode as msgpack (written before the runtime
   * checked guest output): why, and the bytes in base64. Its `data` is then null.
   */
  undecodable?: { reason: string; base64: string };
}

export interface ExecuteResult {
  aggregate: string;
  id: string;
  stream: string;
  /** The stream's last seq after the command. */
  version: number;
  events: ExecutedEvent[];
  /** True when the command id had been executed before and this is the original result. */
  duplicate: boolean;
}

/** The data of a `COMMAND_REJECTED` error: the aggregate's own rejection. */
export interface RejectionData {
  aggregate: string;
  id: string;
  command: string;
  code: string;
  message: string;
  data?: unknown;
}
