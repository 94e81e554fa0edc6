// The simulation strip under the map: list of simulations with their status, the persona's
// controls (create / pause / resume / step / fork: shown only when the permission row allows),
// the timeline (play / pause a replay, speed, scrubber over every simulated tick), counts, the
// event feed (click → fly there) and the observer mode. Draws through StarMap.setSim.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiFailure, allows, type Live, type SimulationView, type SimSnapshot } from '@exomaps/sdk';
import { Api } from '../api';
import type { Catalog } from '../map/catalog';
import type { SimDraw } from '../map/SimLayer';
import type { StarMap } from '../map/StarMap';
import { SimCursor } from '@exomaps/sdk';
import { FEED_KINDS, SimModel, describe, eventKey, type SimEvent } from '../sim/model';
import { SPEEDS, advance, clampTick, yearOf } from '../sim/timeline';

export interface SimViewState {
  sim: string | null;
  tick: number | null;
  observer: string | null;
}

interface Props {
  live: Live;
  persona: string | undefined;
  catalog: Catalog | null;
  map: () => StarMap | null;
  view: SimViewState;
  onView: (v: Partial<SimViewState>) => void;
  onFly: (mainId: string) => void;
}

type Observed = NonNullable<SimSnapshot['observer']>;

export function SimDock({ live, persona, catalog, map, view, onView, onFly }: Props) {
  const [list, setList] = useState<SimulationView[]>([]);
  const [sim, setSim] = useState<SimulationView | null>(null);
  const [head, setHead] = useState(0);
  const [shown, setShown] = useState<number | null>(null);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(SPEEDS[1]);
  const [error, setError] = useState<string | null>(null);
  const [observed, setObserved] = useState<Observed | null>(null);
  const [, bump] = useState(0);
  const model = useRef<SimModel | null>(null);
  const cursor = useRef(new SimCursor());
  const lastPop = useRef(0);
  /** The live batches' pace (ticks per ms), for gliding ships between batches. */
  const follow = useRef({ tick: 0, at: 0, rate: 0 });
  const play = useRef<{ from: number; at: number } | null>(null);
  const [scrub, setScrub] = useState<number | null>(null);
  const [obsInput, setObsInput] = useState('');
  const catalogRef = useRef(catalog);
  catalogRef.current = catalog;
  const viewRef = useRef(view);
  viewRef.current = view;

  const sel = list.find((s) => s.sim_id === view.sim) ?? sim;
  const state = sim?.state ?? sel?.state;
  const can = (op: Parameters<typeof allows>[0]) => allows(op, persona);

  const refreshList = useCallback(async () => {
    try {
      const l = await Api.simList(50);
      setList(l.simulations);
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);
  useEffect(() => {
    void refreshList();
    const t = setInterval(() => void refreshList(), 5000);
    return () => clearInterval(t);
  }, [refreshList]);

  // Draw the model (or the observer's view) on the map.
  const draw = useCallback(
    (t?: number) => {
      const m = map();
      const cat = catalogRef.current;
      if (!m || !cat) return;
      const md = model.current;
      if (!md) return m.setSim(null, 0);
      const toCat = md.systems.map((id) => cat.indexOf(id) ?? -1);
      const d: SimDraw = {
        settlements: [...md.settlements].map(([i, s]) => ({ idx: toCat[i] ?? -1, population: s.population, faction: s.faction })),
        ships: [...md.ships.values()].map((s) => ({ from: toCat[s.from] ?? -1, to: toCat[s.to] ?? -1, departTick: s.departTick, arriveTick: s.arriveTick, faction: s.faction })),
        routes: [...md.routes.values()].map(([a, b]) => [toCat[a] ?? -1, toCat[b] ?? -1] as [number, number]),
        origin: -1,
      };
      const first = cursor.current.events.find((e) => e.event === 'sim.started');
      if (first?.location?.system_id) d.origin = cat.indexOf(first.location.system_id) ?? -1;
      m.setSim(d, t ?? md.tick);
      bump((x) => x + 1);
    },
    [map],
  );

  const drawObserved = useCallback(
    (o: Observed) => {
      const m = map();
      const cat = catalogRef.current;
      if (!m || !cat) return;
      m.setSim({ settlements: o.systems.map((s) => ({ idx: cat.indexOf(s.system_id) ?? -1, population: s.population, faction: s.faction })), ships: [], routes: [], origin: -1 }, 0);
    },
    [map],
  );

  // Applies the events the model has not seen, up to `upto` (inclusive).
  const catchUp = useCallback((upto: number) => {
    const md = model.current;
    if (!md) return false;
    let changed = false;
    for (const e of cursor.current.events) {
      if (e.tick > upto) break;
      if (eventKey(e) > md.lastKey) changed = md.apply(e) || changed;
    }
    return changed;
  }, []);

  // The selected simulation: its record, the live subscription (replay from the start for the
  // feed, resumed after a reconnect from the last complete tick).
  useEffect(() => {
    const id = view.sim;
    model.current = null;
    cursor.current = new SimCursor();
    follow.current = { tick: 0, at: 0, rate: 0 };
    setSim(null);
    setObserved(null);
    setPlaying(false);
    map()?.setSim(null, 0);
    if (!id) return;
    let stale = false;
    Api.simGet(id)
      .then((d) => {
        if (stale) return;
        setSim(d.simulation);
        setHead((h) => Math.max(h, d.simulation.current_tick));
      })
      .catch((e: ApiFailure) => !stale && setError(e.status === 404 ? 'No such simulation.' : e.message));
    const channel = `sim:${id}`;
    const off = live.on((msg) => {
      if ((msg.type !== 'sim.tick' && msg.type !== 'sim.events' && msg.type !== 'sim.state') || msg.sim_id !== id) return;
      if (msg.type === 'sim.state') {
        setSim((s) => (s ? { ...s, state: msg.state as SimulationView['state'], current_tick: msg.current_tick } : s));
        setHead((h) => Math.max(h, msg.current_tick));
        void refreshList();
        return;
      }
      const endTick = msg.type === 'sim.tick' ? msg.tick : msg.through_tick;
      if (msg.type === 'sim.tick' && msg.part === msg.parts) {
        const f = follow.current, now = performance.now();
        if (f.at > 0 && endTick > f.tick) f.rate = (endTick - f.tick) / (now - f.at);
        f.tick = endTick;
        f.at = now;
      }
      cursor.current.take({ type: msg.type, events: msg.events, part: msg.part, parts: msg.parts, endTick });
      setHead((h) => Math.max(h, endTick));
      if (msg.type === 'sim.tick') setSim((s) => (s ? { ...s, state: msg.state as SimulationView['state'], current_tick: Math.max(s.current_tick, msg.tick) } : s));
      if (viewRef.current.tick === null && !viewRef.current.observer && model.current) {
        if (catchUp(endTick)) draw();
        setShown(model.current.tick);
        // Growth is not replayed client-side: populations from a snapshot at a coarse cadence.
        if (msg.type === 'sim.tick' && msg.part === msg.parts && performance.now() - lastPop.current > 3000) {
          lastPop.current = performance.now();
          void Api.simSnapshot(id, msg.tick).then((s) => {
            if (model.current && viewRef.current.tick === null && !viewRef.current.observer && s.tick <= model.current.tick) {
              model.current.adoptPopulations(s);
              draw();
            }
          });
        }
      }
      bump((x) => x + 1);
    });
    live.subscribe(channel, () => cursor.current.afterTick);
    return () => {
      stale = true;
      off();
      live.unsubscribe(channel);
    };
  }, [view.sim, live, map, draw, catchUp, refreshList]);

  // The state at the view's tick (or the head when following): the server's snapshot at that
  // tick (nearest stored snapshot + replay), then the feed's later events when following.
  useEffect(() => {
    const id = view.sim;
    if (!id || !catalog) return;
    let stale = false;
    if (view.observer) {
      Api.simSnapshot(id, view.tick ?? undefined, view.observer)
        .then((s) => {
          if (stale || !s.observer) return;
          model.current = null;
          setObserved(s.observer);
          setShown(s.tick);
          drawObserved(s.observer);
        })
        .catch((e: ApiFailure) => !stale && setError(e.message));
    } else {
      setObserved(null);
      Api.simSnapshot(id, view.tick ?? undefined)
        .then((s) => {
          if (stale) return;
          const md = SimModel.fromSnapshot(s);
          model.current = md;
          setShown(s.tick);
          setHead((h) => Math.max(h, s.tick));
          if (viewRef.current.tick === null) catchUp(Number.MAX_SAFE_INTEGER);
          setShown(md.tick);
          draw();
        })
        .catch((e: ApiFailure) => !stale && setError(e.message));
    }
    return () => {
      stale = true;
    };
  }, [view.sim, view.tick, view.observer, catalog, draw, drawObserved, catchUp]);

  // Replay: move the shown tick forward at `speed` ticks/s, applying the feed's events (already
  // here: no download per tick); at the head, follow live.
  useEffect(() => {
    const m = map();
    if (!m) return;
    if (!playing && view.tick === null && !view.observer && state === 'running') {
      // Following a running simulation: batches arrive every few seconds; between them the ships
      // glide from the last batch's tick towards the newest at the observed ticks-per-second.
      let shown = model.current?.tick ?? 0;
      let last = performance.now();
      m.simClock = () => {
        const md = model.current;
        if (!md) return null;
        const now = performance.now();
        const f = follow.current;
        const rate = f.rate > 0 ? f.rate : 0.02;
        if (md.tick - shown > 4 * Math.max(1, rate * 4000)) shown = md.tick; // far behind: jump
        shown = Math.min(md.tick, shown + (now - last) * rate);
        last = now;
        return shown;
      };
      m.invalidate();
      return () => {
        m.simClock = null;
      };
    }
    if (!playing || !model.current) {
      m.simClock = null;
      return;
    }
    play.current = { from: model.current.tick, at: performance.now() };
    let lastWhole = model.current.tick;
    m.simClock = () => {
      const p = play.current!;
      const t = advance(p.from, performance.now() - p.at, speed, head);
      const whole = Math.floor(t);
      if (whole > lastWhole) {
        lastWhole = whole;
        if (catchUp(whole)) {
          draw(t);
        }
        setShown(whole);
      }
      if (t >= head) {
        setPlaying(false);
        onView({ tick: null });
      }
      return t;
    };
    m.invalidate();
    return () => {
      m.simClock = null;
    };
  }, [playing, speed, head, map, catchUp, draw, onView, view.tick, view.observer, state]);

  // The scrubber settles (250 ms without a move): show that tick.
  useEffect(() => {
    if (scrub === null) return;
    const t = setTimeout(() => {
      setScrub(null);
      setPlaying(false);
      onView({ tick: clampTick(scrub, head) });
    }, 250);
    return () => clearTimeout(t);
  }, [scrub, head, onView]);

  const act = async (what: () => Promise<unknown>) => {
    setError(null);
    try {
      await what();
      await refreshList();
      if (view.sim) setSim((await Api.simGet(view.sim)).simulation);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const create = async (form: HTMLFormElement) => {
    const f = new FormData(form);
    const seed = String(f.get('seed') ?? '').trim();
    await act(async () => {
      const s = await Api.simCreate({
        name: String(f.get('name') || '') || null,
        scenario: String(f.get('scenario') || 'default'),
        start_system: String(f.get('start') || 'Sol'),
        seed: seed === '' ? null : Number(seed),
        batch_ticks: Math.min(1000, Math.max(1, Number(f.get('batch') || 20))),
        tick_interval_ms: 100,
      });
      onView({ sim: s.sim_id, tick: null, observer: null });
    });
  };

  const md = model.current;
  const counts = observed ? null : md?.summary();
  const shownTick = observed ? observed.tick : shown ?? md?.tick ?? 0;
  const feed = useMemo(
    () => cursor.current.events.filter((e) => FEED_KINDS.has(e.event) && e.tick <= (view.tick === null ? Infinity : shownTick)).slice(-200).reverse(),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [cursor.current.events.length, shownTick, view.tick, view.sim],
  );

  // Hooks for the end-to-end tests and the benchmark.
  useEffect(() => {
    window.__exomaps = {
      ...window.__exomaps,
      sim: {
        id: view.sim,
        shownTick,
        head,
        following: view.tick === null,
        settled: observed ? observed.systems.map((s) => s.system_id).sort() : md?.settledIds() ?? [],
        ships: md?.ships.size ?? 0,
        drawnSettled: map()?.sim.settledIdx.length ?? 0,
        feed: cursor.current.events.map((e) => [e.tick, e.seq, e.event]),
        duplicates: cursor.current.duplicates,
        afterTick: cursor.current.afterTick,
        connects: live.connects,
      },
    };
  });

  return (
    <section className="sim-dock" aria-label="simulation" data-testid="sim-dock">
      <div className="sim-row">
        <select data-testid="sim-select" value={view.sim ?? ''} onChange={(e) => onView({ sim: e.target.value || null, tick: null, observer: null })}>
          <option value="">— simulation —</option>
          {(sel && !list.some((s) => s.sim_id === sel.sim_id) ? [sel, ...list] : list).map((s) => (
            <option key={s.sim_id} value={s.sim_id}>
              {(s.name || s.sim_id.slice(0, 8)) + ` · ${s.state} · tick ${s.current_tick}`}
            </option>
          ))}
        </select>
        {view.sim && <span data-testid="sim-state" className={`sim-state ${state ?? ''}`}>{state ?? '…'}</span>}
        {view.sim && (
          <>
            {can('sim_resume') && <button data-testid="sim-resume" disabled={state === 'running'} onClick={() => act(() => Api.simResume(view.sim!))}>resume</button>}
            {can('sim_pause') && <button data-testid="sim-pause" disabled={state !== 'running'} onClick={() => act(() => Api.simPause(view.sim!))}>pause</button>}
            {can('sim_step') && <button data-testid="sim-step" disabled={state === 'running'} onClick={() => act(() => Api.simStep(view.sim!, 1))}>step</button>}
            {can('sim_fork') && (
              <button data-testid="sim-fork" onClick={() => act(async () => {
                const f = await Api.simFork(view.sim!, shownTick);
                onView({ sim: f.sim_id, tick: null, observer: null });
              })}>fork at {shownTick}</button>
            )}
          </>
        )}
        {can('sim_create') && (
          <form className="sim-create" data-testid="sim-create" onSubmit={(e) => { e.preventDefault(); void create(e.currentTarget); }}>
            <input name="name" placeholder="name" size={8} />
            <input name="seed" placeholder="seed" size={5} inputMode="numeric" />
            <select name="scenario" defaultValue="default"><option value="default">default</option></select>
            <input name="start" placeholder="start (Sol)" size={9} />
            <input name="batch" placeholder="ticks/batch (20)" size={6} inputMode="numeric" />
            <button type="submit">create</button>
          </form>
        )}
        {error && <span className="error" data-testid="sim-error">{error}</span>}
      </div>
      {view.sim && (
        <div className="sim-row">
          <button data-testid="sim-play" disabled={!!observed} onClick={() => {
            if (playing) return setPlaying(false);
            if (view.tick === null || shownTick >= head) return;
            setPlaying(true);
          }}>{playing ? '❚❚' : '▶'}</button>
          <select data-testid="sim-speed" value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
            {SPEEDS.map((s) => <option key={s} value={s}>{s} ticks/s</option>)}
          </select>
          <input type="range" data-testid="sim-scrubber" min={0} max={Math.max(head, 0)} step={1}
            value={scrub ?? shownTick}
            onChange={(e) => setScrub(Number(e.target.value))} />
          <button data-testid="sim-live" disabled={view.tick === null && !observed} onClick={() => { setPlaying(false); onView({ tick: null }); }}>live</button>
          <span className="sim-counts" data-testid="sim-counts">
            year <b data-testid="sim-year">{yearOf(shownTick).toFixed(2)}</b> · tick <b data-testid="sim-tick">{shownTick}</b>/{head}
            {counts && <> · settled <b data-testid="sim-settled">{counts.systems_settled}</b> · pop {counts.total_population.toLocaleString()} · ships {counts.ships_in_flight} · routes {counts.trade_routes} · factions {counts.factions}</>}
          </span>
          <span className="sim-observer">
            <input data-testid="sim-observer-input" placeholder="observe from…" size={12} value={obsInput} onChange={(e) => setObsInput(e.target.value)} />
            <button data-testid="sim-observe" onClick={() => obsInput.trim() && onView({ observer: obsInput.trim() })}>observe</button>
            {view.observer && <button data-testid="sim-observe-off" onClick={() => onView({ observer: null })}>✕ {view.observer}</button>}
          </span>
        </div>
      )}
      {observed && (
        <p className="sim-note" data-testid="sim-observed">As seen from {observed.observer} at tick {observed.tick}: {observed.systems.length} settled systems known (each as it was distance / c earlier{observed.systems.length ? `, up to ${Math.max(...observed.systems.map((s) => s.light_lag_ticks))} ticks ago` : ''}).</p>
      )}
      {view.sim && (
        <ol className="sim-feed" data-testid="sim-feed">
          {feed.map((e: SimEvent) => (
            <li key={eventKey(e)} data-testid="sim-event" data-key={`${e.tick}:${e.seq}`} onClick={() => e.location?.system_id && onFly(e.location.system_id)}>
              <span className="when">y{e.simulated_year.toFixed(2)}</span> {describe(e, md?.factions ?? new Map())}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
