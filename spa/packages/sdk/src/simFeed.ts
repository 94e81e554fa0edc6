// The live side of a simulation, pure: which tick to resume from after a dropped connection,
// and an event feed with no duplicate (each (tick, seq) once) and a check for gaps.
// `followSimulation` wires it to a Live connection.
import type { SimEvent } from './client.js';
import type { Live, LiveMessage } from './live.js';

/** (tick, seq) as one sortable key (seq < 2^20 per tick). */
export const eventKey = (e: { tick: number; seq: number }) => e.tick * 1_048_576 + e.seq;

/** A `sim.events` replay or a `sim.tick` batch part (the fields the cursor needs). */
export interface BatchPart {
  type: 'sim.events' | 'sim.tick';
  events: SimEvent[];
  part: number;
  parts: number;
  /** `through_tick` of a replay, `tick` of a batch. */
  endTick: number;
}

export class SimCursor {
  /**
   * The tick to pass as `after_tick` when (re)subscribing: the end of the last message whose
   * `part == parts` (a batch split in parts counts only when complete), −1 from the start.
   */
  afterTick: number;
  private readonly seen = new Set<number>();
  /** Feed events (deduplicated), ascending by (tick, seq). */
  readonly events: SimEvent[] = [];
  duplicates = 0;

  constructor(afterTick = -1) {
    this.afterTick = afterTick;
  }

  /** Takes one message: returns the events not seen before (in order). */
  take(m: BatchPart): SimEvent[] {
    const fresh: SimEvent[] = [];
    for (const e of m.events) {
      const k = eventKey(e);
      if (this.seen.has(k)) {
        this.duplicates++;
        continue;
      }
      this.seen.add(k);
      fresh.push(e);
    }
    if (fresh.length) {
      const last = this.events.at(-1);
      this.events.push(...fresh);
      if (last && eventKey(fresh[0]) < eventKey(last)) this.events.sort((a, b) => eventKey(a) - eventKey(b));
    }
    if (m.part === m.parts && m.endTick > this.afterTick) this.afterTick = m.endTick;
    return fresh;
  }

  /** Forgets events after `tick` (a scrub back): the next subscribe resumes from there. */
  rewind(tick: number) {
    while (this.events.length && this.events.at(-1)!.tick > tick) this.seen.delete(eventKey(this.events.pop()!));
    for (const k of [...this.seen]) if (Math.floor(k / 1_048_576) > tick) this.seen.delete(k);
    this.afterTick = Math.min(this.afterTick, tick);
  }
}

/** Gaps in a run of events: the ticks in [from, to] missing from `ticks` (every tick emits tick.advanced). */
export function missingTicks(events: SimEvent[], from: number, to: number): number[] {
  const have = new Set(events.map((e) => e.tick));
  const out: number[] = [];
  for (let t = from; t <= to; t++) if (!have.has(t)) out.push(t);
  return out;
}

/** A message of a simulation's channel, as `followSimulation` hands it on. */
export type SimMessage = Extract<LiveMessage, { type: 'sim.tick' | 'sim.events' | 'sim.state' }>;

/**
 * Follows `sim:<id>` on a Live connection: subscribes with `after_tick` = `cursor.afterTick`
 * (asked again at every reconnect, so exactly the missed ticks are replayed), feeds each
 * `sim.events` / `sim.tick` message to the cursor and calls `onEvents` with the events not seen
 * before; `onMessage` sees every message of the channel (`sim.state` too). Returns a stop function.
 */
export function followSimulation(
  live: Live,
  simId: string,
  handlers: { onEvents?: (fresh: SimEvent[], m: SimMessage) => void; onMessage?: (m: SimMessage) => void },
  cursor: SimCursor = new SimCursor(),
): { cursor: SimCursor; stop: () => void } {
  const channel = `sim:${simId}`;
  const off = live.on((raw) => {
    const m = raw as SimMessage;
    if ((m.type !== 'sim.tick' && m.type !== 'sim.events' && m.type !== 'sim.state') || m.sim_id !== simId) return;
    if (m.type !== 'sim.state') {
      const endTick = m.type === 'sim.tick' ? m.tick : m.through_tick;
      const fresh = cursor.take({ type: m.type, events: m.events, part: m.part, parts: m.parts, endTick });
      if (fresh.length) handlers.onEvents?.(fresh, m);
    }
    handlers.onMessage?.(m);
  });
  live.subscribe(channel, () => cursor.afterTick);
  return {
    cursor,
    stop: () => {
      off();
      live.unsubscribe(channel);
    },
  };
}
