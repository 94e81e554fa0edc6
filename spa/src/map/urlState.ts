// The whole view in the URL query (camera, selection, ruler, filters), so a view can be shared
// and is restored on reload. Pure: strings in, plain data out; malformed parts are ignored.
import { CLASS_KEYS } from './classes';
import { DEFAULT_MAX_LY, defaultFilters, type Filters, type PlanetFilter } from './filters';

export interface CameraState {
  /** Orbit target and camera position, scene units (pc). */
  target: [number, number, number];
  position: [number, number, number];
}

export interface ViewState {
  camera: CameraState | null;
  /** main_id of the selected system. */
  selected: string | null;
  /** main_ids of the ruler's two ends. */
  ruler: [string, string] | null;
  filters: Filters;
  /** The simulation shown (`sim`), its tick (`t`; null = follow the head, live) and observer system (`obs`). */
  sim: string | null;
  tick: number | null;
  observer: string | null;
  /** The shared room (`room`, a uuid) this map is in. */
  room: string | null;
}

const PLANET_FILTERS: PlanetFilter[] = ['any', 'any-planets', 'observed', 'inferred'];

const num = (v: number) => (Math.round(v * 1000) / 1000).toString();

export function emptyView(): ViewState {
  return { camera: null, selected: null, ruler: null, filters: defaultFilters(), sim: null, tick: null, observer: null, room: null };
}

export function encodeView(v: ViewState): string {
  const p = new URLSearchParams();
  if (v.camera) p.set('cam', [...v.camera.target, ...v.camera.position].map(num).join(','));
  if (v.selected) p.set('sel', v.selected);
  if (v.ruler) p.set('ruler', `${v.ruler[0]}|${v.ruler[1]}`);
  const f = v.filters;
  if (f.classes.size !== CLASS_KEYS.length) p.set('cls', CLASS_KEYS.filter((c) => f.classes.has(c)).join('') || '-');
  if (f.minLy > 0 || f.maxLy < DEFAULT_MAX_LY) p.set('d', `${num(f.minLy)}-${num(Math.min(f.maxLy, DEFAULT_MAX_LY))}`);
  if (f.planets !== 'any') p.set('pl', f.planets);
  if (v.sim) {
    p.set('sim', v.sim);
    if (v.tick !== null) p.set('t', String(v.tick));
    if (v.observer) p.set('obs', v.observer);
  }
  if (v.room) p.set('room', v.room);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function decodeView(search: string): ViewState {
  const p = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const v = emptyView();
  const cam = p.get('cam')?.split(',').map(Number);
  if (cam && cam.length === 6 && cam.every(Number.isFinite)) {
    v.camera = { target: [cam[0], cam[1], cam[2]], position: [cam[3], cam[4], cam[5]] };
  }
  const sel = p.get('sel');
  if (sel) v.selected = sel;
  const ruler = p.get('ruler');
  if (ruler && ruler.includes('|')) {
    const [a, b] = [ruler.slice(0, ruler.indexOf('|')), ruler.slice(ruler.indexOf('|') + 1)];
    if (a && b) v.ruler = [a, b];
  }
  const cls = p.get('cls');
  if (cls !== null) v.filters.classes = new Set([...cls].filter((c) => CLASS_KEYS.includes(c)));
  const d = p.get('d')?.match(/^([0-9.]+)-([0-9.]+)$/);
  if (d) {
    const [lo, hi] = [Number(d[1]), Number(d[2])];
    if (Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi) {
      v.filters.minLy = lo;
      v.filters.maxLy = hi;
    }
  }
  const pl = p.get('pl') as PlanetFilter | null;
  if (pl && PLANET_FILTERS.includes(pl)) v.filters.planets = pl;
  const sim = p.get('sim');
  if (sim && /^[0-9a-fA-F-]{36}$/.test(sim)) {
    v.sim = sim.toLowerCase();
    const t = p.get('t');
    if (t !== null && /^[0-9]+$/.test(t)) v.tick = Number(t);
    v.observer = p.get('obs') || null;
  }
  const room = p.get('room');
  if (room && /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(room)) v.room = room.toLowerCase();
  return v;
}
