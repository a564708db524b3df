/**
 * The error of a command id used again for another stream, the same from every store: a retry
 * must name the stream of the original command.
 */
import { ThaloError } from '../errors.js';

export function commandIdReused(commandId: string, stream: string, recordedStream: string): ThaloError {
  return new ThaloError(
    'COMMAND_ID_REUSED',
    `command id "${commandId}" was already used for stream "${recordedStream}", so it cannot be used for stream "${stream}"; a retry must name the same stream, a new command needs a new id`,
    { data: { commandId, stream, recordedStream } },
  );
}
