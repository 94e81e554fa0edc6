import { useCallback, useEffect, useState } from 'react';
import type { Live, ManifestPage, RunDetail, ServerMessage, Validation } from '@exomaps/sdk';
import { Api } from '../api';

type Progress = Extract<ServerMessage, { type: 'run.progress' }>;

/** Pipeline runs for data_curator / ops_engineer / admin: start one, follow it live, read its validation. */
export function PipelinePage({ live }: { live: Live }) {
  const [manifest, setManifest] = useState<ManifestPage | null>(null);
  const [current, setCurrent] = useState<string | null>(null);
  const [events, setEvents] = useState<Progress[]>([]);
  const [completed, setCompleted] = useState<string | null>(null);
  const [run, setRun] = useState<RunDetail | null>(null);
  const [validation, setValidation] = useState<Validation | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setManifest(await Api.manifest(20));
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);
  useEffect(() => void refresh(), [refresh]);

  const show = useCallback(async (runId: string) => {
    setCurrent(runId);
    try {
      const [r, v] = await Promise.all([Api.run(runId), Api.validation(runId, 50, 0)]);
      setRun(r);
      setValidation(v);
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);

  useEffect(() => {
    if (!current) return;
    const channel = `runs:${current}`;
    live.subscribe(channel);
    const off = live.on((m) => {
      // Catch up once subscribed: phases that ran before the subscription (the run starts as
      // soon as POST /api/runs answers) come from GET /api/runs/{id}; live messages win.
      if (m.type === 'subscribed' && m.channel === channel) {
        void Api.run(current).then((r) => {
          const snapshot: Progress[] = r.phases.map((p) => ({ type: 'run.progress', run_id: current, phase: p.phase, status: p.status, counts: p.counts }));
          setEvents((ev) => [...snapshot.filter((p) => !ev.some((e) => e.phase === p.phase)), ...ev]);
          if (r.run.finished_at) setCompleted((c) => c ?? r.run.status);
        });
      }
      if (m.type === 'run.progress' && m.run_id === current) {
        setEvents((ev) => [...ev, m]);
        const log = (window.__exomaps ??= {});
        log.progress = [...((log.progress as string[]) ?? []), `${m.phase}:${m.status}`];
      }
      if (m.type === 'run.completed' && m.run_id === current) {
        setCompleted(m.status);
        void show(current);
        void refresh();
      }
    });
    return () => {
      off();
      live.unsubscribe(channel);
    };
  }, [current, live, show, refresh]);

  const start = async () => {
    setError(null);
    setEvents([]);
    setCompleted(null);
    setRun(null);
    setValidation(null);
    try {
      const r = await Api.startRun(`run from the map ${new Date().toISOString()}`);
      setCurrent(r.run_id);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  // Latest state per phase, in the order they first appeared.
  const phases = new Map<string, Progress>();
  for (const e of events) phases.set(e.phase, e);

  return (
    <main className="page pipeline" data-testid="pipeline-page">
      <h2>Pipeline</h2>
      <p>
        <button data-testid="start-run" onClick={start}>Start a run</button> (the server's configured sources)
      </p>
      {error && <p className="error" role="alert">{error}</p>}
      {current && (
        <section>
          <h3 data-testid="run-title">Run {current.slice(0, 8)}</h3>
          <ol className="phases" data-testid="phases">
            {[...phases.values()].map((p) => (
              <li key={p.phase} data-testid={`phase-${p.phase}`} data-status={p.status} className={p.status}>
                <b>{p.phase}</b> {p.status}
                {p.reason && <span className="error"> — {p.reason}</span>}
                {p.counts != null && <code>{JSON.stringify(p.counts).slice(0, 160)}</code>}
              </li>
            ))}
            {phases.size === 0 && <li className="muted">waiting for the first phase…</li>}
          </ol>
          {completed && <p data-testid="run-completed">completed: <b>{completed}</b></p>}
          {run && run.run.failure_reason && <p className="error">{run.run.failure_reason}</p>}
        </section>
      )}
      {validation && (
        <section data-testid="validation">
          <h3>Validation summary</h3>
          <table>
            <thead>
              <tr><th>source</th><th>rows</th><th>accepted</th><th>quarantined</th><th>warnings</th><th>gate</th></tr>
            </thead>
            <tbody>
              {validation.validation_summary.map((s) => (
                <tr key={s.source_name}>
                  <td>{s.source_name}</td><td>{s.total_rows}</td><td>{s.accepted_rows}</td><td>{s.quarantined_rows}</td><td>{s.warning_count}</td><td>{s.gate_status}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Quarantine ({validation.quarantine.total_count})</h3>
          <table data-testid="quarantine">
            <thead>
              <tr><th>source</th><th>row</th><th>reason</th><th>column</th><th>detail</th></tr>
            </thead>
            <tbody>
              {validation.quarantine.rows.map((q, k) => (
                <tr key={k} data-testid="quarantine-row">
                  <td>{q.source_name}</td><td>{q.row_number}</td><td><code>{q.error_code}</code></td><td>{q.column_name}</td><td>{q.error_detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <section>
        <h3>Run history</h3>
        <table data-testid="manifest">
          <thead>
            <tr><th>started</th><th>name</th><th>status</th><th>files</th><th /></tr>
          </thead>
          <tbody>
            {manifest?.runs.map(({ run: r, sources }) => (
              <tr key={r.run_id}>
                <td>{new Date(r.started_at).toLocaleString()}</td>
                <td>{r.run_name}</td>
                <td className={r.status}>{r.status}</td>
                <td>{sources.map((s) => `${s.source_name} (${s.accepted_rows}/${s.row_count})`).join(', ')}</td>
                <td><button onClick={() => (setEvents([]), setCompleted(null), show(r.run_id))}>details</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
