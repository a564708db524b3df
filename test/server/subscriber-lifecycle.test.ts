/**
 * The end of a remote subscriber, against `thalo-runtime` as a process: `DELETE
 * /v1/subscribers/:name` ends its streams and removes its checkpoint for good (across a SIGKILL),
 * so it leaves the list and the lag metric; and the cap on names (`--max-subscribers`), which
 * refuses a new name, also when several arrive at once, while known names keep working.
 */
import { describe, expect, it } from 'vitest';
import { request, startRuntime, tempRoot } from './runtime-process.js';
import { SseReader } from './sse-reader.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

function ack(url: string, name: string, position: number) {
  return request(`${url}/v1/subscribers/${encodeURIComponent(name)}/ack`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({ position }),
  });
}

function remove(url: string, name: string) {
  return request(`${url}/v1/subscribers/${encodeURIComponent(name)}`, { method: 'DELETE' });
}

async function names(url: string): Promise<string[]> {
  return ((await request(`${url}/v1/projections`)).body.projections as { name: string }[]).map((p) => p.name);
}

async function increment(url: string, id: string): Promise<number> {
  const { body } = await request(`${url}/v1/aggregates/counter/${id}/commands/Increment`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: '{"amount":1}',
  });
  return body.events[0].position as number;
}

describe('DELETE /v1/subscribers/:name', () => {
  it('ends the open streams, removes the checkpoint for good and drops the lag series', async () => {
    const root = tempRoot();
    let runtime = await startRuntime({ root });
    let url = runtime.url;
    for (let i = 0; i < 3; i++) await increment(url, `d${i}`);
    const reader = new SseReader(`${url}/v1/subscribe?subscriber=doomed`);
    await reader.untilCount(3);
    expect(await ack(url, 'doomed', 2)).toMatchObject({ status: 200 });
    expect((await request(`${url}/metrics`)).body).toContain('thalo_subscription_lag_events{subscription="doomed"} 1');

    expect(await remove(url, 'doomed')).toEqual(expect.objectContaining({ status: 200, body: { name: 'doomed', deleted: true } }));
    // The stream ended from the runtime's side.
    await reader.done;
    expect(await names(url)).not.toContain('doomed');
    expect((await request(`${url}/metrics`)).body).not.toContain('subscription="doomed"');
    expect(await remove(url, 'doomed')).toMatchObject({ status: 404, body: { code: 'SUBSCRIBER_NOT_FOUND', data: { name: 'doomed' } } });

    // Gone for good: not back after a crash and a restart on the same data.
    await runtime.stop('SIGKILL');
    runtime = await startRuntime({ root });
    url = runtime.url;
    expect(await names(url)).not.toContain('doomed');
    // Under the same name again, it is a new subscriber: from 1, not from the deleted checkpoint.
    const again = new SseReader(`${url}/v1/subscribe?subscriber=doomed`);
    await again.untilCount(3);
    expect(again.ids).toEqual([1, 2, 3]);
    // A subscriber that is only connected (it never acked) can be deleted too.
    expect(await remove(url, 'doomed')).toMatchObject({ status: 200, body: { deleted: true } });
    await again.done;
    expect(await names(url)).not.toContain('doomed');

    expect(await remove(url, 'no such one')).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    expect((await remove(url, 'no such one')).body.message).toContain('path parameter name');
    expect(await runtime.stop()).toBe(0);
  }, 30_000);
});

describe('--max-subscribers', () => {
  it('refuses a new name past the cap, naming it and the way out; known names keep working', async () => {
    const runtime = await startRuntime({ args: ['--max-subscribers', '3'] });
    const { url } = runtime;
    await increment(url, 'cap');
    expect(await ack(url, 'a', 1)).toMatchObject({ status: 200 });
    // A connected subscriber counts as known, acked or not.
    const connected = new SseReader(`${url}/v1/subscribe?subscriber=b`);
    await connected.untilCount(1);

    // Four new names at once for the one free place: exactly one gets it.
    const racing = await Promise.all(['c1', 'c2', 'c3', 'c4'].map((name) => ack(url, name, 1)));
    expect(racing.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = racing.filter((r) => r.status !== 200);
    expect(refused.map((r) => [r.status, r.body.code])).toEqual(Array(3).fill([409, 'TOO_MANY_SUBSCRIBERS']));
    expect(refused[0]!.body.data).toMatchObject({ maxSubscribers: 3 });
    expect(refused[0]!.body.message).toContain('--max-subscribers 3');
    expect(refused[0]!.body.message).toContain('DELETE /v1/subscribers/<name>');

    const refusedStream = await request(`${url}/v1/subscribe?subscriber=late`);
    expect(refusedStream).toMatchObject({ status: 409, body: { code: 'TOO_MANY_SUBSCRIBERS', data: { name: 'late' } } });
    expect(await names(url)).toHaveLength(3);

    // Known names go on: acks, and a second stream under a name already connected.
    expect(await ack(url, 'a', 1)).toMatchObject({ status: 200 });
    const second = new SseReader(`${url}/v1/subscribe?subscriber=b`);
    await second.untilCount(1);
    await second.close();

    // A delete frees a place.
    expect(await remove(url, 'a')).toMatchObject({ status: 200 });
    expect(await ack(url, 'late', 1)).toMatchObject({ status: 200, body: { name: 'late', position: 1 } });
    await connected.close();
    expect(await runtime.stop()).toBe(0);
  }, 30_000);
});
