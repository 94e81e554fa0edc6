// The room's marks over the map: others' cursors (the star each one hovers, with their name in
// their persona's colour) and pinned annotations. DOM spans placed at the stars' screen positions
// whenever the map places its labels; every text goes in as textContent (never HTML).

export interface RoomMark {
  kind: 'cursor' | 'note';
  /** Star index in the catalog. */
  index: number;
  /** main_id of the star (data-system, for tests and tools). */
  system: string;
  label: string;
  colour: string;
  /** The user (cursor) or annotation id (note). */
  key: string;
}

/** Persona colours (the same everywhere a person is shown in a room). */
export const PERSONA_COLOURS: Record<string, string> = {
  admin: '#f43f5e',
  data_curator: '#22c55e',
  ops_engineer: '#f59e0b',
  sim_owner: '#a855f7',
  science_analyst: '#06b6d4',
  narrative_designer: '#ec4899',
  general_user: '#3b82f6',
  observer_guest: '#94a3b8',
};
export const personaColour = (p: string) => PERSONA_COLOURS[p] ?? '#e2e8f0';

export class RoomLayer {
  private readonly el: HTMLDivElement;
  private marks: RoomMark[] = [];
  private readonly spans = new Map<string, HTMLSpanElement>();

  constructor(container: HTMLElement) {
    this.el = document.createElement('div');
    this.el.className = 'room-layer';
    container.appendChild(this.el);
  }

  set(marks: RoomMark[]) {
    this.marks = marks;
    const keep = new Set(marks.map((m) => `${m.kind}:${m.key}`));
    for (const [k, s] of this.spans) {
      if (!keep.has(k)) {
        s.remove();
        this.spans.delete(k);
      }
    }
    for (const m of marks) {
      const k = `${m.kind}:${m.key}`;
      let s = this.spans.get(k);
      if (!s) {
        s = document.createElement('span');
        this.el.appendChild(s);
        this.spans.set(k, s);
      }
      s.className = `room-mark ${m.kind}`;
      s.dataset.testid = m.kind === 'cursor' ? 'remote-cursor' : 'note-pin';
      s.dataset.system = m.system;
      s.dataset.key = m.key;
      s.textContent = m.label;
      s.style.setProperty('--c', m.colour);
    }
  }

  /** Moves every mark to its star (hidden when off screen). */
  place(screenOf: (index: number) => { x: number; y: number } | null) {
    const stack = new Map<number, number>();
    for (const m of this.marks) {
      const s = this.spans.get(`${m.kind}:${m.key}`);
      if (!s) continue;
      const p = screenOf(m.index);
      s.style.display = p ? '' : 'none';
      if (!p) continue;
      const n = stack.get(m.index) ?? 0;
      stack.set(m.index, n + 1);
      s.style.transform = `translate(${p.x + 8}px, ${p.y + 6 + n * 15}px)`;
    }
  }

  dispose() {
    this.el.remove();
  }
}
