/**
 * Small hand-written SVG charts (no chart library). The SVG stretches to its container's width at a
 * fixed height set by CSS (no layout jump when data changes); text stays in HTML around it so it is
 * never distorted. Each chart is an image with a summary for screen readers, and the numbers
 * themselves are in a visually hidden table. No style attributes: colours come from classes.
 */
import { useId, type ReactNode } from 'react';

/** Drawing units: the viewBox is `buckets * STEP` wide and HEIGHT high, stretched by CSS. */
const STEP = 10;
const HEIGHT = 100;

export interface Series {
  /** Shown in the legend and the data table. */
  label: string;
  /** CSS class of the bar or line (colour). */
  className: string;
  values: ReadonlyArray<number | null>;
}

interface ChartProps {
  /** Visible title (h2). */
  title: string;
  /** What the image shows, in words (aria-label). */
  summary: string;
  /** Category labels (one per bucket), for the data table and tooltips. */
  labels: readonly string[];
  series: readonly Series[];
  /** Format a value for the axis, tooltips and table. */
  format: (value: number) => string;
  /** Axis labels under the chart: first and last category. */
  from: string;
  to: string;
  /** Top of the value axis; defaults to the largest value (at least 1). */
  max?: number;
  /** Extra content in the header (e.g. a headline number). */
  headline?: ReactNode;
  /** One short line under the title saying what is plotted. */
  note?: string;
}

/** A sensible axis top at or above `value`: 1, 2 or 5 times a power of ten. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}

function Frame({ title, summary, labels, series, format, from, to, top, headline, note, children }: Omit<ChartProps, 'max'> & { top: number; children: ReactNode }): ReactNode {
  const titleId = useId();
  const width = Math.max(1, labels.length) * STEP;
  return (
    <section className="panel ov-chart" aria-labelledby={titleId}>
      <div className="ov-chart-head">
        <h2 id={titleId}>{title}</h2>
        {headline ? <div className="ov-headline">{headline}</div> : null}
      </div>
      {note ? <p className="ov-note">{note}</p> : null}
      <ul className="ov-legend" aria-hidden="true">
        {series.map((s) => (
          <li key={s.label}>
            <svg className="ov-swatch" viewBox="0 0 10 10" focusable="false">
              <rect className={s.className} x="0" y="0" width="10" height="10" rx="2" />
            </svg>
            {s.label}
          </li>
        ))}
      </ul>
      <div className="ov-plot">
        <div className="ov-yaxis" aria-hidden="true">
          <span>{format(top)}</span>
          <span>{format(0)}</span>
        </div>
        <svg className="ov-svg" viewBox={`0 0 ${width} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={summary} focusable="false">
          <line className="ov-grid" x1="0" x2={width} y1={HEIGHT / 2} y2={HEIGHT / 2} vectorEffect="non-scaling-stroke" />
          <line className="ov-axis" x1="0" x2={width} y1={HEIGHT} y2={HEIGHT} vectorEffect="non-scaling-stroke" />
          {children}
        </svg>
      </div>
      <div className="ov-xaxis" aria-hidden="true">
        <span>{from}</span>
        <span>{to}</span>
      </div>
      {/* The wrapper, not the table, is hidden: a table grows past a 1px height and would lengthen the page. */}
      <div className="sr-only">
        <table>
          <caption>{title}</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              {series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {labels.map((label, i) => (
              <tr key={label + String(i)}>
                <th scope="row">{label}</th>
                {series.map((s) => {
                  const v = s.values[i];
                  return <td key={s.label}>{v === null || v === undefined ? '—' : format(v)}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Stacked bars: one column per bucket, series stacked bottom-up in order. */
export function StackedBars(props: ChartProps): ReactNode {
  const { labels, series, format } = props;
  const totals = labels.map((_, i) => series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const top = props.max ?? niceMax(Math.max(0, ...totals));
  const scale = (v: number): number => (v / top) * HEIGHT;
  return (
    <Frame {...props} top={top}>
      {labels.map((label, i) => {
        let base = HEIGHT;
        const tip = `${label}: ${series.map((s) => `${s.label} ${format(s.values[i] ?? 0)}`).join(', ')}`;
        return (
          <g key={label + String(i)}>
            <title>{tip}</title>
            {/* A transparent full-height target so the tooltip works on empty buckets too. */}
            <rect className="ov-hit" x={i * STEP} y="0" width={STEP} height={HEIGHT} />
            {series.map((s) => {
              const v = s.values[i] ?? 0;
              if (v <= 0) return null;
              const h = Math.max(0.8, scale(v));
              base -= h;
              return <rect key={s.label} className={s.className} x={i * STEP + 1} y={base} width={STEP - 2} height={h} />;
            })}
          </g>
        );
      })}
    </Frame>
  );
}

/** Lines: one point per bucket at its centre; null values break the line. */
export function Lines(props: ChartProps): ReactNode {
  const { series } = props;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const top = props.max ?? niceMax(Math.max(0, ...all));
  const y = (v: number): number => HEIGHT - Math.min(1, v / top) * HEIGHT;
  const path = (values: ReadonlyArray<number | null>): string => {
    let d = '';
    let open = false;
    values.forEach((v, i) => {
      if (v === null || v === undefined) {
        open = false;
        return;
      }
      const x = i * STEP + STEP / 2;
      // A lone point is a zero-length segment: its round caps draw a dot.
      const next = values[i + 1];
      const alone = !open && (next === null || next === undefined);
      d += `${open ? 'L' : 'M'}${x} ${y(v).toFixed(2)}${alone ? ` L${x} ${y(v).toFixed(2)}` : ''} `;
      open = true;
    });
    return d.trim();
  };
  return (
    <Frame {...props} top={top}>
      {series.map((s) => {
        const d = path(s.values);
        return d ? <path key={s.label} className={`ov-line ${s.className}`} d={d} vectorEffect="non-scaling-stroke" /> : null;
      })}
    </Frame>
  );
}
