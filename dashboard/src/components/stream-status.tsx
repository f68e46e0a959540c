/** The layout's word on the page's live event streams: live, connecting or reconnecting, and when the server was last heard from. */
import { useEffect, useState, type ReactNode } from 'react';
import { useStreamStatus } from '../live-stream';
import { streamStatusText } from '../stream-status';

export function StreamStatus(): ReactNode {
  const info = useStreamStatus();
  const [now, setNow] = useState(() => Date.now());
  const active = info !== null;
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  if (!info) return null;
  const { label, updated } = streamStatusText(info, Math.max(now, info.lastDataAt ?? 0));
  return (
    <span className={`stream-status stream-${info.state}`} data-testid="stream-status" data-state={info.state} title={updated ? `${label} · ${updated}` : label}>
      <span className="stream-dot" aria-hidden="true" />
      {/* Only the state is announced: "updated 3 s ago" changes every second. */}
      <span role="status">{label}</span>
      {updated ? <span className="muted stream-updated"> · {updated}</span> : null}
    </span>
  );
}
