/**
 * The overview: the runtime's figures over the last minutes, read from `GET /metrics` every two
 * seconds, and a live tail of the newest events (`GET /v1/subscribe`) that can be paused and
 * filtered by aggregate and event type.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ExecutedEvent } from '../../src/protocol/commands.js';
import type { LogPage } from '../../src/protocol/http.js';
import { api, follow, metricsText } from './api.js';
import { Chart } from './chart.js';
import { JsonView } from './json-view.js';
import { parseMetrics, pointBetween, sum } from './metrics.js';
import type { Point, Reading } from './metrics.js';
import { ErrorNote, streamHref, time } from './ui.js';

const EVERY_MS = 2_000;
/** Five minutes of points. */
const KEEP_POINTS = 150;
/** Events the tail keeps. */
const TAIL = 200;

function useMetrics(): { points: Point[]; head: number | undefined; error: unknown } {
  const [points, setPoints] = useState<Point[]>([]);
  const [head, setHead] = useState<number>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const controller = new AbortController();
    let previous: Reading | undefined;
    const read = async () => {
      try {
        const reading = parseMetrics(await metricsText(controller.signal), Date.now());
        setHead(sum(reading, 'thalo_log_position'));
        if (previous) {
          const point = pointBetween(previous, reading);
          setPoints((list) => [...list.slice(-(KEEP_POINTS - 1)), point]);
        }
        previous = reading;
        setError(undefined);
      } catch (failure) {
        if (!controller.signal.aborted) setError(failure);
      }
    };
    void read();
    const timer = setInterval(() => void read(), EVERY_MS);
    return () => {
      clearInterval(timer);
      controller.abort();
    };
  }, []);
  return { points, head, error };
}

function Figures({ points, head }: { points: Point[]; head: number | undefined }) {
  const last = points.at(-1);
  const fixed = (value: number | null | undefined, digits = 1) => (value === null || value === undefined ? '–' : value.toFixed(digits));
  return (
    <dl class="figures">
      <div>
        <dt>Log head</dt>
        <dd data-testid="head">{head ?? '–'}</dd>
      </div>
      <div>
        <dt>Commands/s</dt>
        <dd>{fixed(last?.commandsPerSecond)}</dd>
      </div>
      <div>
        <dt>Events/s</dt>
        <dd>{fixed(last?.eventsPerSecond)}</dd>
      </div>
      <div>
        <dt>p50 / p99</dt>
        <dd>
          {fixed(last?.p50, 2)} / {fixed(last?.p99, 2)} ms
        </dd>
      </div>
      <div>
        <dt>Rejections / conflicts</dt>
        <dd>
          {points.reduce((n, p) => n + p.rejections, 0)} / {points.reduce((n, p) => n + p.conflicts, 0)}
        </dd>
      </div>
      <div>
        <dt>Queue depth per shard</dt>
        <dd>{last ? last.queueDepths.join(' · ') : '–'}</dd>
      </div>
      <div>
        <dt>Cache hit rate</dt>
        <dd data-testid="cache-hit-rate" title="Commands whose aggregate state was in its worker's cache, over the last interval">
          {last?.cacheHitRate == null ? '–' : `${(last.cacheHitRate * 100).toFixed(1)} %`}
        </dd>
      </div>
    </dl>
  );
}

function Charts({ points }: { points: Point[] }) {
  const times = points.map((p) => p.time);
  const shards = points.at(-1)?.queueDepths.length ?? 0;
  const colours = ['#2f7ed8', '#d8612f', '#3aa35b', '#9b59b6', '#c0392b', '#16a085', '#7f8c8d', '#e67e22'];
  return (
    <div class="charts">
      <Chart
        title="Throughput (per second)"
        series={[
          { label: 'commands', stroke: colours[0]! },
          { label: 'events', stroke: colours[1]! },
        ]}
        data={[times, points.map((p) => p.commandsPerSecond), points.map((p) => p.eventsPerSecond)]}
      />
      <Chart
        title="Command latency (ms)"
        series={[
          { label: 'p50', stroke: colours[0]! },
          { label: 'p99', stroke: colours[1]! },
        ]}
        data={[times, points.map((p) => p.p50), points.map((p) => p.p99)]}
      />
      <Chart
        title="Rejections and conflicts (per interval)"
        series={[
          { label: 'rejected', stroke: colours[4]! },
          { label: 'conflicts', stroke: colours[3]! },
        ]}
        data={[times, points.map((p) => p.rejections), points.map((p) => p.conflicts)]}
      />
      {shards > 0 && (
        <Chart
          title="Queue depth per shard"
          series={Array.from({ length: shards }, (_, i) => ({ label: `shard ${i}`, stroke: colours[i % colours.length]! }))}
          data={[times, ...Array.from({ length: shards }, (_, i) => points.map((p) => p.queueDepths[i] ?? null))]}
        />
      )}
    </div>
  );
}

function LiveTail() {
  const [events, setEvents] = useState<ExecutedEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const [aggregate, setAggregate] = useState('');
  const [type, setType] = useState('');
  const [error, setError] = useState<unknown>();
  const [shown, setShown] = useState<ExecutedEvent[]>([]);
  const [live, setLive] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    let from = 0;
    const run = async () => {
      // Start with the last few events already in the log, then follow it live; after a broken
      // connection, go on after the last event received.
      for (let attempt = 0; !controller.signal.aborted; attempt++) {
        try {
          if (from === 0) {
            const head = await api<LogPage>('/v1/events?limit=1', { signal: controller.signal });
            from = Math.max(1, head.lastPosition - 19);
          }
          await follow(
            from,
            (data) => {
              const event = data as ExecutedEvent;
              from = event.position + 1;
              setEvents((list) => [event, ...list].slice(0, TAIL));
            },
            controller.signal,
            () => {
              setLive(true);
              setError(undefined);
            },
          );
          setLive(false);
        } catch (failure) {
          if (controller.signal.aborted) return;
          setLive(false);
          setError(failure);
        }
        await new Promise((r) => setTimeout(r, Math.min(1000 * (attempt + 1), 5000)));
      }
    };
    void run();
    return () => controller.abort();
  }, []);

  // While paused the list shown stays as it was; new events are still received.
  useEffect(() => {
    if (!paused) setShown(events);
  }, [events, paused]);

  const filtered = useMemo(
    () =>
      shown.filter(
        (e) =>
          (aggregate === '' || e.stream.split('-')[0] === aggregate) && (type === '' || e.type.toLowerCase().includes(type.toLowerCase())),
      ),
    [shown, aggregate, type],
  );
  const waiting = events.length - shown.length;

  return (
    <section aria-labelledby="tail-title">
      <h2 id="tail-title">
        Live tail{' '}
        <span class="muted" data-testid="tail-state" data-live={String(live)}>
          {live ? '(following the log)' : '(connecting…)'}
        </span>
      </h2>
      <div class="toolbar">
        <button type="button" onClick={() => setPaused(!paused)} aria-pressed={paused}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        {paused && waiting > 0 && <span class="muted">{waiting} new while paused</span>}
        <label>
          Aggregate{' '}
          <input value={aggregate} onInput={(e) => setAggregate(e.currentTarget.value)} placeholder="any" size={12} name="tail-aggregate" />
        </label>
        <label>
          Event type <input value={type} onInput={(e) => setType(e.currentTarget.value)} placeholder="any" size={12} name="tail-type" />
        </label>
      </div>
      <ErrorNote error={error} />
      <div class="table-box">
        <table class="tail" data-testid="tail">
          <thead>
            <tr>
              <th>Position</th>
              <th>Stream</th>
              <th>Seq</th>
              <th>Type</th>
              <th>Time</th>
              <th>Data</th>
            </tr>
          </thead>
          <tbody>
            {filtered.map((e) => {
              const dash = e.stream.indexOf('-');
              return (
                <tr key={e.position} data-position={e.position}>
                  <td>{e.position}</td>
                  <td>{dash > 0 ? <a href={streamHref(e.stream.slice(0, dash), e.stream.slice(dash + 1))}>{e.stream}</a> : e.stream}</td>
                  <td>{e.seq}</td>
                  <td>{e.type}</td>
                  <td>{time(e.timestamp)}</td>
                  <td>
                    <JsonView value={e.data} depth={0} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {filtered.length === 0 && <p class="muted">No events yet{paused ? ' (paused)' : ''}.</p>}
    </section>
  );
}

export function Overview() {
  const { points, head, error } = useMetrics();
  return (
    <>
      <h1>Overview</h1>
      <ErrorNote error={error} />
      <Figures points={points} head={head} />
      <Charts points={points} />
      <LiveTail />
    </>
  );
}
