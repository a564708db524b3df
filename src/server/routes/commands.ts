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
import { checkPayload, optionsFromHeaders, parseBatch } from '../command-input.js';
import type { BatchCommand } from '../command-input.js';
import type { RouteContext } from './context.js';

// One command's answer inside a batch response, as the client reads it.
export type { BatchResult };

/** The largest batch body, in bytes: many payloads, each up to the engine's payload limit. */
export const BATCH_BODY_LIMIT = 64 * 1024 * 1024;

export function registerCommandRoutes(app: FastifyInstance, { engine, metrics, maxPayloadBytes }: RouteContext): void {
  /** Run one command through the engine and count its outcome. */
  async function execute(command: BatchCommand): Promise<ExecuteResult> {
    const started = performance.now();
    try {
      const result = await engine.execute(command.aggregate, command.id, command.command, command.payload, command.options);
      metrics.commandDone(result.duplicate ? 'duplicate' : 'ok', (performance.now() - started) / 1000, command.aggregate, result.duplicate ? 0 : result.events.length);
      return result;
    } catch (error) {
      metrics.commandDone(errorResponse(error).body.code, (performance.now() - started) / 1000);
      throw error;
    }
  }

  app.post<{ Params: { aggregate: string; id: string; command: string } }>(
    '/v1/aggregates/:aggregate/:id/commands/:command',
    // The JSON text of a payload is about as long as its msgpack form, which the engine limits;
    // the margin lets a payload just under the engine's limit through to the engine's own check.
    { bodyLimit: maxPayloadBytes + 1024 },
    async (request) => {
      const { aggregate, id, command } = request.params;
      return execute({ aggregate, id, command, payload: checkPayload(request.body, 'the body'), options: optionsFromHeaders(request.headers) });
    },
  );

  app.post('/v1/commands', { bodyLimit: Math.max(BATCH_BODY_LIMIT, maxPayloadBytes) }, async (request) => {
    const commands = parseBatch(request.body);
    // All commands go to the engine at once, in order: the engine keeps arrival order per
    // aggregate and groups what arrives in one tick into one commit per shard.
    const results = await Promise.all(
      commands.map((command) =>
        execute(command).then(
          (result): BatchResult => ({ status: 200, result }),
          (error): BatchResult => {
            const { status, body } = errorResponse(error);
            return { status, error: body };
          },
        ),
      ),
    );
    return { results } satisfies BatchResponse;
  });
}
