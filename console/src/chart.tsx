/** A small uPlot time chart that follows its container's width. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** The time the charts span, in seconds. */
export const WINDOW_S = 300;

export interface ChartProps {
  title: string;
  /** Each series' label and colour. */
  series: { label: string; stroke: string }[];
  /** [times (s), series 1 values, series 2 values, …] */
  data: (number | null)[][];
  unit?: string;
}

export function Chart({ title, series, data, unit = '' }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = box.current!;
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height: 140,
      // Labels only: values under the cursor would make the legend jump as it moves.
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      // The last minute at least and WINDOW_S seconds at most, so that a chart with few points does not stretch them.
      scales: {
        x: { time: true, range: (_u, min, max) => [max - Math.min(WINDOW_S, Math.max(60, max - min)), max] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
      },
      axes: [
        { stroke: 'currentColor', grid: { show: false } },
        { stroke: 'currentColor', size: 50, values: (_u, ticks) => ticks.map((t) => `${t}${unit}`) },
      ],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5, spanGaps: false }))],
    };
    plot.current = new uPlot(options, data as uPlot.AlignedData, element);
    const observer = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(element.clientWidth, 200), height: 140 }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} />
    </figure>
  );
}
