/**
 * Executing commands: one per request, or many in one batch request.
 *
 *   POST /v1/aggregates/:aggregate/:id/commands/:command   body: the payload (a JSON object)
 *   POST /v1/commands                                      body: { commands: [...] }
 */
import type { FastifyInstance } from 'fastify';
import type { BatchResponse, BatchResult } from '../../protocol/http.js';
import type { ExecuteResult } from '../../engine/index.js';
import { errorResponse } from '../api-errors.js';
import { HEADERS, MAX_BATCH_COMMANDS, optionsFromHeaders, parseBatch } from '../command-input.js';
import type { BatchCommand, BatchItem } from '../command-input.js';
import { STRING } from '../request-validation.js';
import type { RouteContext } from './context.js';

// One command's answer inside a batch response, as the client reads it.
export type { BatchResult };

/** The largest batch body, in bytes: many payloads, each up to the engine's payload limit. */
export const BATCH_BODY_LIMIT = 64 * 1024 * 1024;

/** A payload: any JSON object (the engine checks its values, src/json-values.ts); no body or `null` is `{}`. */
const PAYLOAD = { type: ['object', 'null'], errorCode: 'INVALID_PAYLOAD', description: 'a JSON object' };

/** The expected version's rule is `parseExpectedVersion`'s, which names the field and quotes the text as sent. */
const EXPECTED_VERSION = {
  type: ['string', 'number'],
  description: `"any", "no_stream", "exists" or an integer from 0 to ${Number.MAX_SAFE_INTEGER}`,
};

const COMMAND_SCHEMA = {
  params: { type: 'object', properties: { aggregate: STRING, id: STRING, command: STRING } },
  headers: {
    type: 'object',
    properties: {
      [HEADERS.expectedVersion]: { ...EXPECTED_VERSION, type: 'string' },
      [HEADERS.commandId]: STRING,
      [HEADERS.correlationId]: STRING,
      [HEADERS.causationId]: STRING,
    },
  },
  body: PAYLOAD,
};

const BATCH_ITEM = {
  type: 'object',
  required: ['aggregate', 'id', 'command'],
  additionalProperties: false,
  description: 'a command {"aggregate", "id", "command", "payload"?, …}',
  properties: {
    aggregate: STRING,
    id: STRING,
    command: STRING,
    payload: PAYLOAD,
    expectedVersion: EXPECTED_VERSION,
    commandId: STRING,
    correlationId: STRING,
    causationId: STRING,
    // The engine checks the headers' shape and says which one is wrong.
    headers: {},
  },
};

const BATCH_SCHEMA = {
  body: {
    type: 'object',
    required: ['commands'],
    additionalProperties: false,
    description: 'a JSON object {"commands": [...]}',
    properties: {
      commands: {
        type: 'array',
        maxItems: MAX_BATCH_COMMANDS,
        items: BATCH_ITEM,
        description: `an array of at most ${MAX_BATCH_COMMANDS} commands`,
      },
    },
  },
};

export function registerCommandRoutes(app: FastifyInstance, { engine, metrics, maxPayloadBytes, cluster }: RouteContext): void {
  /** Run one command through the engine and count its outcome. */
  async function execute(command: BatchCommand): Promise<ExecuteResult> {
    const started = performance.now();
    try {
      const result = await engine.execute(command.aggregate, command.id, command.command, command.payload, command.options);
      metrics.commandDone(
        result.duplicate ? 'duplicate' : 'ok',
        (performance.now() - started) / 1000,
        command.aggregate,
        result.duplicate ? 0 : result.events.length,
      );
      return result;
    } catch (error) {
      metrics.commandDone(errorResponse(error).body.code, (performance.now() - started) / 1000);
      throw error;
    }
  }

  app.post<{ Params: { aggregate: string; id: string; command: string }; Body: Record<string, unknown> | null }>(
    '/v1/aggregates/:aggregate/:id/commands/:command',
    // The JSON text of a payload is about as long as its msgpack form, which the engine limits;
    // the margin lets a payload just under the engine's limit through to the engine's own check.
    { bodyLimit: maxPayloadBytes + 1024, schema: COMMAND_SCHEMA },
    async (request, reply) => {
      const { aggregate, id, command } = request.params;
      // In a cluster, a command owned by another node goes there and its answer comes back as it is.
      if (cluster) {
        const answer = await cluster.forwarder.forwardCommand({
          aggregate,
          id,
          path: request.url,
          headers: request.headers,
          body: request.body,
        });
        if (answer) return reply.code(answer.status).headers(answer.headers).send(answer.body);
      }
      return execute({ aggregate, id, command, payload: request.body ?? {}, options: optionsFromHeaders(request.headers) });
    },
  );

  app.post<{ Body: { commands: BatchItem[] } }>(
    '/v1/commands',
    { bodyLimit: Math.max(BATCH_BODY_LIMIT, maxPayloadBytes), schema: BATCH_SCHEMA },
    async (request) => {
      const commands = parseBatch(request.body.commands);
      const failed = (error: unknown): BatchResult => {
        const { status, body } = errorResponse(error);
        return { status, error: body };
      };
      // All commands go to the engine at once, in order: the engine keeps arrival order per
      // aggregate and groups what arrives in one tick into one commit per shard.
      const run = (batch: BatchCommand[]) =>
        Promise.all(batch.map((command) => execute(command).then((result): BatchResult => ({ status: 200, result }), failed)));
      if (cluster) {
        // Split by owner node; each node's share keeps its order, and results come back in the batch's.
        const runHere = (indices: number[]) => run(indices.map((index) => commands[index]!));
        const merged = await cluster.forwarder.forwardBatch(request.body.commands, request.headers, runHere, failed);
        if (merged) return { results: merged } satisfies BatchResponse;
      }
      return { results: await run(commands) } satisfies BatchResponse;
    },
  );
}
