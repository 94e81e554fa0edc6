import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiFailure, Live, RoomSession, decodeAsset, isBroadcast, type BroadcastMessage, type PersonaView, type RoomView, type SystemDetail } from '@exomaps/sdk';
import { Api, Rooms } from './api';
import { Catalog } from './map/catalog';
import { countVisible, visibilityMask } from './map/filters';
import { StarMap } from './map/StarMap';
import { RoomLayer, personaColour, type RoomMark } from './map/roomLayer';
import { fromScene, pcToLy } from './map/units';
import { decodeView, encodeView, type ViewState } from './map/urlState';
import { PipelinePage } from './pages/Pipeline';
import { canSeePipeline, useSession } from './session';
import { DetailPanel } from './ui/DetailPanel';
import { FiltersPanel } from './ui/FiltersPanel';
import { RoomPanel } from './ui/RoomPanel';
import { RulerPanel } from './ui/RulerPanel';
import { SimDock, type SimViewState } from './ui/SimDock';
import { SearchBox } from './ui/SearchBox';
import { TopBar } from './ui/TopBar';

declare global {
  interface Window {
    /** Read-only hooks for the end-to-end tests and the first-paint benchmark. */
    __exomaps?: Record<string, unknown>;
  }
}

function usePath(): [string, (p: string) => void] {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  const go = useCallback((p: string) => {
    if (p !== location.pathname) history.pushState(null, '', p + (p === '/' ? location.search : ''));
    setPath(p);
  }, []);
  return [path, go];
}

type Detail = { mainId: string; data?: SystemDetail; error?: string };

export function App() {
  const { session, reload, setSession } = useSession();
  const [path, go] = usePath();
  const [view, setView] = useState<ViewState>(() => decodeView(location.search));
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [mapStatus, setMapStatus] = useState('loading the map…');
  const [detail, setDetail] = useState<Detail | null>(null);
  const [liveNote, setLiveNote] = useState<string | null>(null);
  const mapEl = useRef<HTMLDivElement>(null);
  const map = useRef<StarMap | null>(null);
  const live = useMemo(() => new Live(), []);
  const viewRef = useRef(view);
  viewRef.current = view;
  const restored = useRef(false);
  const buildId = useRef<number | null>(null);
  /** The names part of the shown build is still to come. */
  const namesPending = useRef(false);
  // Rooms: the followed room, the star under this pointer, the marks layer, the broadcast banner.
  const [room, setRoom] = useState<RoomSession | null>(null);
  const [roomView, setRoomView] = useState<RoomView | null>(null);
  const roomRef = useRef<RoomSession | null>(null);
  const hovered = useRef<string | null>(null);
  const roomLayer = useRef<RoomLayer | null>(null);
  const [banner, setBanner] = useState<BroadcastMessage | null>(null);
  const sessionRef = useRef(session);
  sessionRef.current = session;

  // The map: fetch the pointer and the asset's two parts, decode, hand to the renderer. The map
  // part (positions, brightness, class, flags, counts) paints at once; the names part (main_ids,
  // display names), fetched alongside, then attaches labels, the local search and lookups.
  // `expect`: the build a data.refreshed announced; the pointer may lag behind the message
  // (object store / CDN), so it is polled for a while until it shows that build.
  const loadWorld = useCallback(async (reason: string, expect?: number) => {
    try {
      let ptr = await Api.worldPointer();
      for (let wait = 250; expect !== undefined && (ptr?.world_build_id ?? -1) < expect && wait < 8000; wait *= 1.5) {
        await new Promise((r) => setTimeout(r, wait));
        ptr = await Api.worldPointer();
      }
      if (!ptr) {
        setMapStatus('No map published yet: run the pipeline (the map appears when it completes).');
        return;
      }
      if (ptr.world_build_id === buildId.current) return;
      const t0 = performance.now();
      const namesBytes = ptr.names ? Api.assetBytes(ptr.names) : null;
      namesBytes?.catch(() => undefined); // awaited below; never an unhandled rejection
      const bytes = await Api.assetBytes(ptr.asset);
      const asset = decodeAsset(bytes);
      buildId.current = asset.worldBuildId;
      namesPending.current = namesBytes !== null;
      const cat = new Catalog(asset);
      setCatalog(cat);
      setMapStatus(`${asset.count.toLocaleString()} systems · world build ${asset.worldBuildId}`);
      window.__exomaps = { ...window.__exomaps, loadedMs: performance.now() - t0, reason, worldBuildId: asset.worldBuildId, assetBytes: bytes.byteLength };
      if (!namesBytes) return;
      let named: Catalog;
      let names: ArrayBuffer;
      try {
        names = await namesBytes;
        named = cat.withNames(names);
      } catch (e) {
        namesPending.current = false;
        setMapStatus(`${asset.count.toLocaleString()} systems · world build ${asset.worldBuildId} · names could not be loaded: ${(e as Error).message}`);
        return;
      }
      if (buildId.current !== asset.worldBuildId) return; // a newer build replaced this one meanwhile
      namesPending.current = false;
      setCatalog(named);
      window.__exomaps = { ...window.__exomaps, namesMs: performance.now() - t0, namesBytes: names.byteLength };
    } catch (e) {
      setMapStatus(`The map could not be loaded: ${(e as Error).message}`);
    }
  }, []);

  useEffect(() => {
    window.__exomaps = { ...window.__exomaps, live };
    void loadWorld('start');
    live.subscribe('data');
    const off = live.on((m) => {
      if (m.type === 'data.refreshed') {
        setLiveNote(`world build ${m.world_build_id} published: map reloaded`);
        void loadWorld('data.refreshed', m.world_build_id);
      }
      if (isBroadcast(m)) setBanner(m);
    });
    return () => {
      off();
    };
  }, [live, loadWorld]);

  // The renderer lives as long as the map view is mounted.
  useEffect(() => {
    if (path !== '/' || !mapEl.current) return;
    const layer = new RoomLayer(mapEl.current);
    roomLayer.current = layer;
    const m = new StarMap(mapEl.current, {
      onPick: (i) => select(i, false),
      onCamera: (c) => setView((v) => ({ ...v, camera: c })),
      onHover: (i) => {
        const id = i === null ? null : (catalogRef.current?.asset.names[i] ?? null);
        hovered.current = id;
        roomRef.current?.setCursor(id ? { system_id: id } : null, viewRef.current.selected);
      },
      onLabels: () => layer.place((i) => m.screenOf(i)),
    });
    map.current = m;
    window.__exomaps = {
      ...window.__exomaps,
      map: m,
      screenOf: (mainId: string) => {
        const i = catalogRef.current?.indexOf(mainId);
        return i === undefined ? null : m.screenOf(i);
      },
    };
    return () => {
      m.dispose();
      layer.dispose();
      roomLayer.current = null;
      map.current = null;
      restored.current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path]);

  const catalogRef = useRef(catalog);
  catalogRef.current = catalog;

  const select = useCallback((i: number | null, fly: boolean) => {
    const cat = catalogRef.current;
    if (!cat) return;
    if (!cat.named && i !== null) return; // main_ids arrive with the names part
    const mainId = i === null ? null : cat.asset.names[i];
    setView((v) => ({ ...v, selected: mainId }));
    if (i !== null && fly) map.current?.flyTo(i);
  }, []);

  // Catalog or map changes: give the stars to the renderer, restore the URL's view once.
  useEffect(() => {
    const m = map.current;
    if (!m || !catalog) return;
    m.setCatalog(catalog);
    const v = viewRef.current;
    if (!restored.current) {
      // The camera at once; a selection (a main_id) once the names part is attached.
      if (v.camera) {
        m.setCameraState(v.camera);
        restored.current = true;
      } else if (catalog.named || !v.selected) {
        restored.current = true;
        const sel = v.selected ? catalog.indexOf(v.selected) : undefined;
        if (sel !== undefined) m.flyTo(sel, 3);
      }
    }
    // `firstStarsMs`: the first frame with stars (the first-paint benchmark); `ready`: stars and names.
    const wait = () => {
      if (m.firstStarsAt === null) return requestAnimationFrame(wait);
      window.__exomaps = { ...window.__exomaps, firstStarsMs: m.firstStarsAt, count: catalog.count, ready: catalog.named || !namesPending.current };
    };
    wait();
  }, [catalog, path]);

  const selectedIndex = catalog && view.selected ? catalog.indexOf(view.selected) ?? null : null;
  const rulerIdx = useMemo<[number, number] | null>(() => {
    if (!catalog || !view.ruler) return null;
    const a = catalog.indexOf(view.ruler[0]);
    const b = catalog.indexOf(view.ruler[1]);
    return a === undefined || b === undefined ? null : [a, b];
  }, [catalog, view.ruler]);

  const mask = useMemo(() => {
    if (!catalog) return null;
    const keep = [catalog.indexOf('Sol') ?? -1, selectedIndex ?? -1, ...(rulerIdx ?? [])];
    return visibilityMask(catalog.asset, view.filters, keep);
  }, [catalog, view.filters, selectedIndex, rulerIdx]);

  useEffect(() => {
    if (mask) map.current?.setVisibility(mask);
    if (mask) window.__exomaps = { ...window.__exomaps, visibleCount: countVisible(mask) };
  }, [mask, path]);
  useEffect(() => map.current?.setSelected(selectedIndex), [selectedIndex, catalog, path]);
  useEffect(() => map.current?.setRuler(rulerIdx), [rulerIdx, catalog, path]);

  // The URL follows the view (replaceState: no history entry per camera move).
  useEffect(() => {
    if (path !== '/') return;
    const t = setTimeout(() => history.replaceState(null, '', `/${encodeView(view)}`), 150);
    return () => clearTimeout(t);
  }, [view, path]);

  // The room of the URL (`?room=`): followed over the same WebSocket; its marks drawn on the map.
  useEffect(() => {
    if (!view.room) {
      setRoom(null);
      setRoomView(null);
      return;
    }
    const r = new RoomSession(live, view.room, Rooms, () => sessionRef.current?.user ?? null).start();
    roomRef.current = r;
    setRoom(r);
    const off = r.onChange(setRoomView);
    window.__exomaps = { ...window.__exomaps, room: r };
    return () => {
      off();
      r.stop();
      roomRef.current = null;
    };
  }, [view.room, live]);
  useEffect(() => {
    roomRef.current?.setCursor(hovered.current ? { system_id: hovered.current } : null, view.selected);
  }, [view.selected, room]);
  useEffect(() => {
    const layer = roomLayer.current;
    if (!layer) return;
    const marks: RoomMark[] = [];
    if (catalog && roomView) {
      for (const c of roomView.cursors) {
        const id = c.target && 'system_id' in c.target ? c.target.system_id : null;
        const i = id ? catalog.indexOf(id) : undefined;
        if (id && i !== undefined) marks.push({ kind: 'cursor', index: i, system: id, label: c.user, colour: personaColour(c.persona), key: c.user });
      }
      for (const a of roomView.annotations) {
        const i = a.system_id ? catalog.indexOf(a.system_id) : undefined;
        if (a.system_id && i !== undefined) {
          marks.push({ kind: 'note', index: i, system: a.system_id, label: a.text.length > 40 ? `${a.text.slice(0, 39)}…` : a.text, colour: personaColour(a.author_persona), key: a.id });
        }
      }
    }
    layer.set(marks);
    const m = map.current;
    if (m) layer.place((i) => m.screenOf(i));
  }, [roomView, catalog, path]);
  const onRoom = useCallback((id: string | null) => setView((v) => ({ ...v, room: id })), []);
  const centre = useMemo<[number, number, number] | null>(() => {
    const t = view.camera?.target;
    return t ? (fromScene(t[0], t[1], t[2]).map((pc) => Math.round(pcToLy(pc) * 1000) / 1000) as [number, number, number]) : null;
  }, [view.camera]);

  // The detail panel follows the selection.
  useEffect(() => {
    const id = view.selected;
    if (!id) return setDetail(null);
    let stale = false;
    setDetail({ mainId: id });
    Api.system(id)
      .then((data) => !stale && setDetail({ mainId: id, data }))
      .catch((e: ApiFailure) => !stale && setDetail({ mainId: id, error: e.status === 404 ? 'No details for this system yet.' : e.message }));
    return () => {
      stale = true;
    };
  }, [view.selected]);

  const onSession = useCallback(
    (s: PersonaView | null) => {
      if (s) setSession(s);
      else void reload();
      live.reconnect();
    },
    [live, reload, setSession],
  );

  const persona = session?.current_persona_key;
  const getMap = useCallback(() => map.current, []);
  const simView = useMemo<SimViewState>(() => ({ sim: view.sim, tick: view.tick, observer: view.observer }), [view.sim, view.tick, view.observer]);
  const onSimView = useCallback((p: Partial<SimViewState>) => setView((v) => ({ ...v, ...p })), []);
  const flyToId = useCallback(
    (mainId: string) => {
      const i = catalogRef.current?.indexOf(mainId);
      if (i !== undefined) select(i, true);
    },
    [select],
  );
  const pipelineAllowed = canSeePipeline(persona);

  return (
    <div className="app">
      {banner && (
        <div className={`broadcast-banner ${banner.level === 'warning' ? 'warning' : 'info'}`} role="alert" data-testid="broadcast-banner">
          <span data-testid="broadcast-text">{banner.message}</span>
          <span className="note-meta">— {banner.from}</span>
          <button onClick={() => setBanner(null)} aria-label="dismiss">×</button>
        </div>
      )}
      <TopBar session={session} onSession={onSession} path={path} go={go} pipelineAllowed={pipelineAllowed} />
      {path === '/pipeline' ? (
        pipelineAllowed ? (
          <PipelinePage live={live} />
        ) : (
          <main className="page" data-testid="no-access">
            <h2>Pipeline</h2>
            <p>The pipeline page is for the data curator, ops engineer and admin personas. {session?.user ? `You are ${session.current_persona.label}.` : 'Sign in first.'}</p>
          </main>
        )
      ) : (
        <main className="map-layout">
          <aside className="side left">
            <SearchBox catalog={catalog} onPick={(i) => select(i, true)} />
            {catalog && (selectedIndex !== null || view.ruler) && (
              <RulerPanel catalog={catalog} selected={selectedIndex} ruler={view.ruler} onChange={(r) => setView((v) => ({ ...v, ruler: r }))} />
            )}
            <FiltersPanel filters={view.filters} visible={mask ? countVisible(mask) : 0} total={catalog?.count ?? 0} onChange={(f) => setView((v) => ({ ...v, filters: f }))} />
            <RoomPanel session={session} catalog={catalog} roomId={view.room} room={room} view={roomView} selected={view.selected} centre={centre} onRoom={onRoom} onFly={flyToId} />
            <p className="status" data-testid="map-status">{mapStatus}</p>
            {liveNote && <p className="status live" data-testid="live-note">{liveNote}</p>}
          </aside>
          <section className="map" ref={mapEl} aria-label="star map" />
          <aside className="side right">
            {catalog && selectedIndex !== null ? (
              <DetailPanel catalog={catalog} index={selectedIndex} detail={detail?.mainId === view.selected ? detail : null} onClose={() => select(null, false)} />
            ) : (
              <p className="hint">Click a star or search for one.</p>
            )}
          </aside>
          <SimDock live={live} persona={persona} catalog={catalog} map={getMap} view={simView} onView={onSimView} onFly={flyToId} />
        </main>
      )}
    </div>
  );
}
