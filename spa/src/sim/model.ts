// The client's model of one simulation at one tick: built from the engine's snapshot
// (`GET /api/simulation/{id}/snapshot` → `SimState` JSON) and moved forward by applying event
// envelopes (replay pages, `sim.events` / `sim.tick` WebSocket messages). Pure: no IO, no three.js.
// System references are the engine's indexes into `SimSnapshot.systems` (ids = main_ids).
import { eventKey, type Schemas } from '@exomaps/sdk';

export type SimEvent = Schemas['SimEventEnvelope'];
export type SimSnapshot = Schemas['SimSnapshot'];

export interface SettlementView {
  population: number;
  faction: number;
  foundedTick: number;
}

export interface ShipView {
  from: number;
  to: number;
  faction: number;
  departTick: number;
  arriveTick: number;
}

type Json = Record<string, unknown>;
const num = (v: unknown, d = 0) => (typeof v === 'number' && Number.isFinite(v) ? v : d);

/** (tick, seq) as one sortable key (the SDK's, with its feed). */
export { eventKey };

export class SimModel {
  tick = 0;
  /** Highest (tick, seq) applied, −1 before any. */
  lastKey = -1;
  readonly settlements = new Map<number, SettlementView>();
  readonly ships = new Map<number, ShipView>();
  /** "a-b" with a < b → [a, b]. */
  readonly routes = new Map<string, [number, number]>();
  readonly factions = new Map<number, string>();
  /** Bumped on every change: renderers redraw when it moves. */
  version = 0;

  constructor(readonly systems: string[]) {}

  /** The model of a snapshot's whole state (the snapshot must carry `state` and `systems`). */
  static fromSnapshot(s: SimSnapshot): SimModel {
    if (!s.state || !s.systems) throw new Error('the snapshot has no state (observer snapshot?)');
    const m = new SimModel(s.systems);
    const st = s.state as Json;
    m.tick = num(st.tick, s.tick);
    for (const [k, v] of Object.entries((st.settlements ?? {}) as Record<string, Json>)) {
      m.settlements.set(Number(k), { population: num(v.population), faction: num(v.faction), foundedTick: num(v.founded_tick) });
    }
    for (const [k, v] of Object.entries((st.ships ?? {}) as Record<string, Json>)) {
      m.ships.set(Number(k), { from: num(v.from), to: num(v.to), faction: num(v.faction), departTick: num(v.depart_tick), arriveTick: num(v.arrive_tick) });
    }
    for (const r of (st.routes ?? []) as unknown[][]) {
      const a = num(r[0]), b = num(r[1]);
      m.routes.set(routeKey(a, b), a < b ? [a, b] : [b, a]);
    }
    for (const [k, v] of Object.entries((st.factions ?? {}) as Record<string, Json>)) m.factions.set(Number(k), String(v.name ?? `faction ${k}`));
    // Events of ticks ≤ the snapshot's tick are already in it.
    m.lastKey = eventKey({ tick: m.tick, seq: 1_048_575 });
    m.version++;
    return m;
  }

  /**
   * Applies one event. Events at or before the last applied (tick, seq) are ignored (a replay
   * overlapping what was applied): returns whether it was applied.
   */
  apply(e: SimEvent): boolean {
    const key = eventKey(e);
    if (key <= this.lastKey) return false;
    this.lastKey = key;
    if (e.tick > this.tick) this.tick = e.tick;
    const p = (e.payload ?? {}) as Json;
    switch (e.event) {
      case 'sim.started':
        this.settlements.set(num(p.system), { population: num(p.population), faction: num(p.faction), foundedTick: e.tick });
        this.factions.set(num(p.faction), String(p.faction_name ?? 'founders'));
        break;
      case 'ship.launched': {
        const from = num(p.from);
        this.ships.set(num(p.ship), { from, to: num(p.to), faction: this.settlements.get(from)?.faction ?? 0, departTick: e.tick, arriveTick: num(p.arrive_tick, e.tick + 1) });
        break;
      }
      case 'colony.founded':
        this.ships.delete(num(p.ship));
        this.settlements.set(num(p.system), { population: num(p.population), faction: num(p.faction), foundedTick: e.tick });
        break;
      case 'ship.lost':
        this.ships.delete(num(p.ship));
        break;
      case 'trade.route.opened': {
        const a = num(p.from), b = num(p.to);
        this.routes.set(routeKey(a, b), a < b ? [a, b] : [b, a]);
        break;
      }
      case 'trade.route.closed':
        this.routes.delete(routeKey(num(p.from), num(p.to)));
        break;
      case 'faction.split': {
        const child = num(p.child);
        this.factions.set(child, String(p.name ?? `faction ${child}`));
        for (const sys of (p.systems ?? []) as number[]) {
          const s = this.settlements.get(sys);
          if (s) s.faction = child;
        }
        break;
      }
      case 'settlement.disaster':
      case 'settlement.conflict': {
        const s = this.settlements.get(num(p.system));
        if (s) s.population = Math.max(0, s.population - num(p.deaths));
        break;
      }
      case 'settlement.abandoned': {
        const sys = num(p.system);
        this.settlements.delete(sys);
        for (const [k, [a, b]] of this.routes) if (a === sys || b === sys) this.routes.delete(k);
        break;
      }
      default:
        break; // tick.advanced (growth is taken from snapshots), discoveries, unknown kinds
    }
    this.version++;
    return true;
  }

  /** Takes populations from a later snapshot of the same simulation (growth is not replayed here). */
  adoptPopulations(s: SimSnapshot) {
    const st = (s.state ?? {}) as Json;
    for (const [k, v] of Object.entries((st.settlements ?? {}) as Record<string, Json>)) {
      const here = this.settlements.get(Number(k));
      if (here) here.population = num(v.population);
    }
    this.version++;
  }

  summary() {
    let pop = 0;
    const live = new Set<number>();
    for (const s of this.settlements.values()) {
      pop += s.population;
      live.add(s.faction);
    }
    return { tick: this.tick, systems_settled: this.settlements.size, total_population: pop, ships_in_flight: this.ships.size, trade_routes: this.routes.size, factions: live.size };
  }

  /** Settled systems' ids (main_ids), sorted: what the map shows. */
  settledIds(): string[] {
    return [...this.settlements.keys()].map((i) => this.systems[i]).sort();
  }
}

export const routeKey = (a: number, b: number) => (a < b ? `${a}-${b}` : `${b}-${a}`);

/** Where a ship is at fractional tick t: 0..1 along its route. */
export function shipProgress(s: ShipView, t: number): number {
  const span = s.arriveTick - s.departTick;
  if (span <= 0) return 1;
  return Math.min(1, Math.max(0, (t - s.departTick) / span));
}

/** Events worth a line in the feed (not the per-tick bookkeeping). */
export const FEED_KINDS = new Set(['sim.started', 'colony.founded', 'ship.lost', 'faction.split', 'trade.route.opened', 'trade.route.closed', 'settlement.disaster', 'settlement.conflict', 'settlement.abandoned', 'settlement.tech_breakthrough']);

export function describe(e: SimEvent, factions: Map<number, string>): string {
  const p = (e.payload ?? {}) as Json;
  const at = e.location?.name ?? e.location?.system_id ?? '?';
  switch (e.event) {
    case 'sim.started':
      return `${String(p.faction_name ?? 'founders')} start at ${at}`;
    case 'colony.founded':
      return `colony founded at ${at}`;
    case 'ship.lost':
      return `ship ${num(p.ship)} lost near ${at} (${String(p.reason ?? 'lost')})`;
    case 'faction.split':
      return `faction split: ${String(p.name ?? '?')} leaves ${factions.get(num(p.parent)) ?? `faction ${num(p.parent)}`} (capital ${at})`;
    case 'trade.route.opened':
      return `trade route opened from ${at}`;
    case 'trade.route.closed':
      return `trade route closed at ${at} (${String(p.reason ?? '')})`;
    case 'settlement.disaster':
      return `${String(p.kind ?? 'disaster')} at ${at}: ${num(p.deaths).toLocaleString()} dead`;
    case 'settlement.conflict':
      return `conflict at ${at}: ${num(p.deaths).toLocaleString()} dead`;
    case 'settlement.abandoned':
      return `${at} abandoned (${String(p.reason ?? '')})`;
    default:
      return `${e.event} at ${at}`;
  }
}

/** A stable colour per faction (golden-angle hue), as RGB 0..1. */
export function factionColour(f: number): [number, number, number] {
  const h = ((f * 137.508) % 360) / 360;
  const s = 0.75, l = 0.58;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p2 = 2 * l - q;
  const hue = (t: number) => {
    t = (t + 1) % 1;
    if (t < 1 / 6) return p2 + (q - p2) * 6 * t;
    if (t < 1 / 2) return q;
    if (t < 2 / 3) return p2 + (q - p2) * (2 / 3 - t) * 6;
    return p2;
  };
  return [hue(h + 1 / 3), hue(h), hue(h - 1 / 3)];
}

/** Marker size for a population (log scale, 1 person … 10^10). */
export const populationSize = (pop: number) => 0.6 + Math.min(10, Math.log10(Math.max(1, pop))) * 0.35;
