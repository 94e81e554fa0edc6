import { describe, expect, it } from 'vitest';
import { SimCursor, missingTicks } from '@exomaps/sdk';
import { SimModel, eventKey, shipProgress, type SimEvent, type SimSnapshot } from '../../src/sim/model';
import { advance, clampTick, yearOf } from '../../src/sim/timeline';
import { decodeView, encodeView, emptyView } from '../../src/map/urlState';

const SYSTEMS = ['Sol', 'Alpha Centauri', 'Tau Ceti', "Barnard's Star"];
const ev = (tick: number, seq: number, event: string, payload: Record<string, unknown> = {}): SimEvent =>
  ({ event, tick, seq, sim_id: 's', simulated_year: tick / 4, location: null, payload }) as unknown as SimEvent;

function snapshot(): SimSnapshot {
  return {
    sim_id: 's', tick: 10, simulated_year: 2.5, state_hash: 'h', model_version: 'm', summary: {} as SimSnapshot['summary'], systems: SYSTEMS,
    state: {
      tick: 10,
      settlements: { '0': { population: 1000, faction: 1, founded_tick: 0 }, '1': { population: 50, faction: 1, founded_tick: 8 } },
      ships: { '3': { from: 0, to: 2, faction: 1, depart_tick: 9, arrive_tick: 19, colonists: 10 } },
      routes: [[0, 1, { opened_tick: 9, carried: 0 }]],
      factions: { '1': { id: 1, name: 'Terra' } },
    },
  } as unknown as SimSnapshot;
}

describe('SimModel', () => {
  it('reads a snapshot state', () => {
    const m = SimModel.fromSnapshot(snapshot());
    expect(m.tick).toBe(10);
    expect(m.settledIds()).toEqual(['Alpha Centauri', 'Sol']);
    expect(m.ships.get(3)).toMatchObject({ from: 0, to: 2, departTick: 9, arriveTick: 19 });
    expect([...m.routes.values()]).toEqual([[0, 1]]);
    expect(m.summary()).toMatchObject({ systems_settled: 2, total_population: 1050, ships_in_flight: 1, trade_routes: 1, factions: 1 });
  });

  it('applies events after the snapshot and ignores those already in it', () => {
    const m = SimModel.fromSnapshot(snapshot());
    expect(m.apply(ev(10, 5, 'colony.founded', { system: 3, parent: 0, ship: 9, population: 7, faction: 1 }))).toBe(false);
    expect(m.settlements.has(3)).toBe(false);
    expect(m.apply(ev(11, 0, 'tick.advanced'))).toBe(true);
    expect(m.apply(ev(11, 1, 'ship.launched', { ship: 4, from: 1, to: 3, colonists: 5, arrive_tick: 15 }))).toBe(true);
    expect(m.ships.get(4)).toMatchObject({ from: 1, to: 3, departTick: 11, arriveTick: 15, faction: 1 });
    m.apply(ev(15, 1, 'colony.founded', { system: 3, parent: 1, ship: 4, population: 5, faction: 1 }));
    expect(m.ships.has(4)).toBe(false);
    expect(m.settledIds()).toEqual(["Alpha Centauri", "Barnard's Star", 'Sol']);
    m.apply(ev(16, 1, 'faction.split', { parent: 1, child: 2, name: 'Outer', capital: 3, systems: [1, 3] }));
    expect(m.settlements.get(3)!.faction).toBe(2);
    expect(m.settlements.get(0)!.faction).toBe(1);
    m.apply(ev(17, 1, 'settlement.abandoned', { system: 1, reason: 'lifetime' }));
    expect(m.settlements.has(1)).toBe(false);
    expect(m.routes.size).toBe(0);
    m.apply(ev(18, 1, 'ship.lost', { ship: 3, to: 2, reason: 'lost_in_transit' }));
    expect(m.ships.size).toBe(0);
    expect(m.tick).toBe(18);
    // A replayed (older) event changes nothing.
    expect(m.apply(ev(16, 1, 'faction.split', { parent: 1, child: 2, systems: [0] }))).toBe(false);
    expect(m.settlements.get(0)!.faction).toBe(1);
  });

  it('places a ship along its route by fractional tick', () => {
    const s = { from: 0, to: 1, faction: 1, departTick: 10, arriveTick: 20 };
    expect(shipProgress(s, 5)).toBe(0);
    expect(shipProgress(s, 12.5)).toBeCloseTo(0.25);
    expect(shipProgress(s, 30)).toBe(1);
  });
});

describe('SimCursor', () => {
  it('resumes after the last complete message and drops duplicates', () => {
    const c = new SimCursor();
    c.take({ type: 'sim.events', events: [ev(0, 0, 'sim.started'), ev(1, 0, 'tick.advanced')], part: 1, parts: 1, endTick: 1 });
    expect(c.afterTick).toBe(1);
    // A batch in two parts: the first part does not move the resume point.
    c.take({ type: 'sim.tick', events: [ev(2, 0, 'tick.advanced')], part: 1, parts: 2, endTick: 3 });
    expect(c.afterTick).toBe(1);
    c.take({ type: 'sim.tick', events: [ev(3, 0, 'tick.advanced')], part: 2, parts: 2, endTick: 3 });
    expect(c.afterTick).toBe(3);
    // The reconnect replay overlaps what arrived: each event kept once, in order.
    const fresh = c.take({ type: 'sim.events', events: [ev(2, 0, 'tick.advanced'), ev(3, 0, 'tick.advanced'), ev(4, 0, 'tick.advanced')], part: 1, parts: 1, endTick: 4 });
    expect(fresh.map((e) => e.tick)).toEqual([4]);
    expect(c.duplicates).toBe(2);
    expect(c.events.map(eventKey)).toEqual([...c.events.map(eventKey)].sort((a, b) => a - b));
    expect(missingTicks(c.events, 1, 4)).toEqual([]);
    expect(missingTicks(c.events.filter((e) => e.tick !== 3), 1, 4)).toEqual([3]);
    c.rewind(2);
    expect(c.afterTick).toBe(2);
    expect(c.events.at(-1)!.tick).toBe(2);
  });
});

describe('timeline', () => {
  it('advances at speed and stops at the head', () => {
    expect(advance(10, 500, 4, 100)).toBe(12);
    expect(advance(10, 60_000, 4, 100)).toBe(100);
    expect(clampTick(7.6, 5)).toBe(5);
    expect(clampTick(-3, 5)).toBe(0);
    expect(clampTick(2.4, 5)).toBe(2);
    expect(yearOf(10)).toBe(2.5);
  });
});

describe('URL state of the simulation', () => {
  it('round-trips sim, tick and observer, and ignores bad values', () => {
    const v = { ...emptyView(), sim: '0b7e2c1a-1111-4222-8333-444455556666', tick: 42, observer: 'Tau Ceti' };
    const back = decodeView(encodeView(v));
    expect(back.sim).toBe(v.sim);
    expect(back.tick).toBe(42);
    expect(back.observer).toBe('Tau Ceti');
    expect(decodeView('?sim=not-a-uuid&t=4').sim).toBeNull();
    expect(decodeView('?sim=0b7e2c1a-1111-4222-8333-444455556666&t=-1').tick).toBeNull();
  });
});
