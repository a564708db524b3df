/**
 * The edge of `append` and `appendBatch`, the same for every store: requests checked one by one
 * (an invalid one fails alone), and group commit, where every append made before a store's next
 * transaction starts joins it. A store gives only how a batch of checked requests is committed.
 */
import { ThaloError, isThaloError } from '../errors.js';
import type { ExpectedVersion } from '../expected-version.js';
import { prepareRequest } from './validation.js';
import type { AppendLimits, PreparedRequest } from './validation.js';
import type { AppendOptions, AppendRequest, AppendResult, BatchAppendOutcome, NewEvent } from './types.js';

/** Commits checked requests and resolves with one outcome each, in order. */
export type CommitRequests = (requests: PreparedRequest[]) => Promise<BatchAppendOutcome[]>;

/** `EventStoreContract.append`: one request, its failure thrown. */
export async function appendOne(
  stream: string,
  events: NewEvent[],
  options: AppendOptions,
  limits: AppendLimits,
  commit: CommitRequests,
): Promise<AppendResult> {
  if (typeof options !== 'object' || options === null) throw new ThaloError('INVALID_ARGUMENT', 'append options must be an object');
  const request = prepareRequest({ stream, events, expected: options.expected, commandId: options.commandId }, limits);
  const [outcome] = await commit([request]);
  if (!outcome!.ok) throw outcome!.error;
  return outcome!.result;
}

/** `EventStoreContract.appendBatch`: the valid requests committed together, the invalid ones failed alone. */
export async function appendEach(requests: AppendRequest[], limits: AppendLimits, commit: CommitRequests): Promise<BatchAppendOutcome[]> {
  if (!Array.isArray(requests)) throw new ThaloError('INVALID_ARGUMENT', 'appendBatch takes an array of requests');
  const outcomes = new Array<BatchAppendOutcome>(requests.length);
  const valid: PreparedRequest[] = [];
  const validIndex: number[] = [];
  // Streams with a request refused here: a later request after it (`afterPrevious`) fails too.
  const refused = new Set<string>();
  requests.forEach((request, index) => {
    try {
      const prepared = prepareRequest(request, limits);
      if (prepared.afterPrevious && refused.has(prepared.stream)) throw brokenChain(prepared.stream, prepared.expected);
      valid.push(prepared);
      validIndex.push(index);
    } catch (error) {
      if (!isThaloError(error)) throw error;
      outcomes[index] = { ok: false, error: error as ThaloError };
      if (typeof request?.stream === 'string') refused.add(request.stream);
    }
  });
  if (valid.length > 0) {
    const committed = await commit(valid);
    committed.forEach((outcome, i) => (outcomes[validIndex[i]!] = outcome));
  }
  return outcomes;
}

/**
 * `AppendRequest.afterPrevious`, kept by every store's commit loop the same way: a request decided
 * on the state that the batch's previous request to its stream leaves fails when that request
 * appended nothing. Without it, a request whose state went wrong with the one before (a stale
 * cached state: the first conflicts) could commit where its expected version happens to equal
 * the stream's head, events computed on a state the stream never had.
 */
export class RequestChains {
  /** Streams whose last request in this batch appended nothing. */
  private readonly broken = new Set<string>();

  /** Throws `WRONG_EXPECTED_VERSION` when `request` comes after a request of its stream that appended nothing. */
  check(request: PreparedRequest, actual: number): void {
    if (request.afterPrevious && this.broken.has(request.stream)) throw brokenChain(request.stream, request.expected, actual);
  }

  /** Records whether `request` appended (a duplicate appends nothing). */
  settle(request: PreparedRequest, appended: boolean): void {
    if (appended) this.broken.delete(request.stream);
    else this.broken.add(request.stream);
  }
}

function brokenChain(stream: string, expected: ExpectedVersion, actual?: number): ThaloError {
  return new ThaloError(
    'WRONG_EXPECTED_VERSION',
    `stream "${stream}": this append was decided after an earlier one to the same stream in its batch, which appended nothing, so the state it was decided on is not the stream's`,
    { data: actual === undefined ? { stream, expected } : { stream, expected, actual } },
  );
}

interface PendingBatch {
  requests: PreparedRequest[];
  outcomes: Promise<BatchAppendOutcome[]>;
}

/**
 * Group commit: requests added while a batch is open join it, and each caller gets the outcomes
 * of its own requests. `start` is called once per batch, with the batch's requests (still
 * growing) and `close`, which the transaction calls as it begins, so that later requests open the
 * next batch. A batch whose commit fails before it began closes too.
 */
export class GroupCommit {
  private open: PendingBatch | undefined;

  constructor(private readonly start: (requests: PreparedRequest[], close: () => void) => Promise<BatchAppendOutcome[]>) {}

  add(requests: PreparedRequest[]): Promise<BatchAppendOutcome[]> {
    let batch = this.open;
    if (batch === undefined) {
      const opened: PendingBatch = { requests: [], outcomes: undefined as unknown as Promise<BatchAppendOutcome[]> };
      const close = (): void => {
        if (this.open === opened) this.open = undefined;
      };
      this.open = batch = opened;
      opened.outcomes = this.start(opened.requests, close);
      opened.outcomes.catch(close);
    }
    const first = batch.requests.length;
    for (const request of requests) batch.requests.push(request);
    return batch.outcomes.then((outcomes) =>
      first === 0 && outcomes.length === requests.length ? outcomes : outcomes.slice(first, first + requests.length),
    );
  }
}
