// Rooms on the map (ROOMS-CONTRACT.md): typed calls for the room, annotation and broadcast
// routes, and `RoomSession` — one room followed over a Live connection: members (presence),
// everyone's latest cursor, the annotations (listed, then kept current by the room's messages),
// and this client's cursor sent throttled (≤ 10/s, the last position re-sent once ~200 ms after
// it stops moving). Annotation text is data: render it as text, never as HTML.
import type { ApiClient, Schemas, ServerMessage } from './client.js';
import type { Live } from './live.js';

export type Point = Schemas['Point'];
export type Room = Schemas['Room'];
export type Member = Schemas['Member'];
export type RoomDetail = Schemas['RoomDetail'];
export type Annotation = Schemas['Annotation'];
export type CursorTarget = Schemas['CursorTarget'];
export type Cursor = Schemas['Cursor'];
export type NewAnnotation = Schemas['CreateAnnotation'];
export type AnnotationEdit = Schemas['UpdateAnnotation'];
export type BroadcastLevel = Schemas['BroadcastLevel'];

/** The room channel's messages and the broadcast (server → client), from the OpenAPI document. */
export type RoomMessage = Extract<ServerMessage, { type: 'room_state' | 'presence' | 'cursors' | 'annotation' | 'broadcast' }>;
export type BroadcastMessage = Extract<ServerMessage, { type: 'broadcast' }>;

/** The room / annotation / broadcast calls of an API client (typed by the OpenAPI document). */
export function roomsApi(api: Pick<ApiClient, 'raw' | 'call' | 'callEmpty'>) {
  const { raw, call, callEmpty } = api;
  const room = (room_id: string) => ({ params: { path: { room_id } } });
  const note = (room_id: string, annotation_id: string) => ({ params: { path: { room_id, annotation_id } } });
  return {
    create: (name?: string) => call(() => raw.POST('/api/rooms', { body: name ? { name } : {} })),
    get: (roomId: string) => call(() => raw.GET('/api/rooms/{room_id}', room(roomId))),
    annotations: async (roomId: string) => (await call(() => raw.GET('/api/rooms/{room_id}/annotations', room(roomId)))).annotations,
    annotate: (roomId: string, body: NewAnnotation) => call(() => raw.POST('/api/rooms/{room_id}/annotations', { ...room(roomId), body })),
    edit: (roomId: string, annotationId: string, body: AnnotationEdit) =>
      call(() => raw.PATCH('/api/rooms/{room_id}/annotations/{annotation_id}', { ...note(roomId, annotationId), body })),
    remove: (roomId: string, annotationId: string) =>
      callEmpty(() => raw.DELETE('/api/rooms/{room_id}/annotations/{annotation_id}', { ...note(roomId, annotationId), parseAs: 'text' })),
    broadcast: (message: string, level: BroadcastLevel = 'info') => call(() => raw.POST('/api/admin/broadcast', { body: { message, level } })),
  };
}
export type RoomsApi = ReturnType<typeof roomsApi>;

/** Is this message the broadcast banner's? */
export function isBroadcast(m: { type: string }): m is BroadcastMessage {
  return m.type === 'broadcast';
}

export interface Clock {
  now(): number;
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
}
const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
};

/**
 * Client-side cursor throttle: at most one send per `intervalMs` (the latest value wins), and
 * once `settleMs` passes with no new position the last one is sent again (so the others see where
 * it came to rest even if a frame was coalesced away).
 */
export class CursorThrottle<T> {
  private lastSent = -Infinity;
  private pending: { v: T } | null = null;
  private latest: { v: T } | null = null;
  private timer: unknown = null;
  private settle: unknown = null;
  sent = 0;

  constructor(
    private readonly send: (v: T) => void,
    private readonly intervalMs = 100,
    private readonly settleMs = 200,
    private readonly clock: Clock = realClock,
  ) {}

  push(v: T) {
    this.latest = { v };
    if (this.settle !== null) this.clock.clearTimeout(this.settle);
    this.settle = this.clock.setTimeout(() => {
      this.settle = null;
      if (this.timer === null && this.latest) this.emit(this.latest.v);
    }, this.settleMs);
    const wait = this.lastSent + this.intervalMs - this.clock.now();
    if (wait <= 0 && this.timer === null) {
      this.emit(v);
      return;
    }
    this.pending = { v };
    if (this.timer === null) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        const p = this.pending;
        this.pending = null;
        if (p) this.emit(p.v);
      }, Math.max(0, wait));
    }
  }

  private emit(v: T) {
    this.lastSent = this.clock.now();
    this.sent++;
    this.send(v);
  }

  stop() {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    if (this.settle !== null) this.clock.clearTimeout(this.settle);
    this.timer = this.settle = null;
    this.pending = this.latest = null;
  }
}

export interface RoomView {
  members: Member[];
  /** Every member's latest cursor but this client's own user. */
  cursors: Cursor[];
  /** Oldest first. */
  annotations: Annotation[];
  /** The room channel is subscribed (the server confirmed). */
  joined: boolean;
}

/** One room followed over a Live connection. */
export class RoomSession {
  readonly channel: string;
  private readonly members = new Map<string, Member>();
  private readonly cursors = new Map<string, Cursor>();
  private readonly notes = new Map<string, Annotation>();
  private readonly listeners = new Set<(v: RoomView) => void>();
  private readonly throttle: CursorThrottle<{ target: CursorTarget | null; selection: string | null }>;
  private off: (() => void) | null = null;
  private joined = false;
  /** The last error of an annotation reload (shown by the UI). */
  error: string | null = null;

  constructor(
    private readonly live: Live,
    readonly roomId: string,
    private readonly rooms: RoomsApi | null,
    /** This client's user (its own cursor echo is left out of `cursors`). */
    private readonly me: () => string | null,
    opts: { intervalMs?: number; settleMs?: number; clock?: Clock } = {},
  ) {
    this.channel = `room:${roomId}`;
    this.throttle = new CursorThrottle(
      (c) => this.live.send({ action: 'cursor', room: this.roomId, target: c.target, selection: c.selection }),
      opts.intervalMs ?? 100,
      opts.settleMs ?? 200,
      opts.clock,
    );
  }

  /** Subscribes to the room channel and loads the annotations (again after every re-subscription). */
  start() {
    this.off = this.live.on((m) => this.take(m));
    this.live.subscribe(this.channel);
    void this.reload();
    return this;
  }

  stop() {
    this.off?.();
    this.off = null;
    this.throttle.stop();
    this.live.unsubscribe(this.channel);
  }

  /** Where this client's pointer is (throttled to ≤ 10/s). */
  setCursor(target: CursorTarget | null, selection: string | null) {
    this.throttle.push({ target, selection });
  }

  /** Cursor sends so far (for tests). */
  get cursorSends(): number {
    return this.throttle.sent;
  }

  onChange(l: (v: RoomView) => void): () => void {
    this.listeners.add(l);
    l(this.view());
    return () => this.listeners.delete(l);
  }

  view(): RoomView {
    const me = this.me();
    return {
      members: [...this.members.values()],
      cursors: [...this.cursors.values()].filter((c) => c.user !== me),
      annotations: [...this.notes.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0)),
      joined: this.joined,
    };
  }

  /** Loads the annotation list (the live messages keep it current after). */
  async reload() {
    if (!this.rooms) return;
    try {
      const list = await this.rooms.annotations(this.roomId);
      this.notes.clear();
      for (const a of list) this.notes.set(a.id, a);
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
    }
    this.emit();
  }

  /** Applies an annotation this client changed itself (before or without its echo). */
  upsert(a: Annotation) {
    this.notes.set(a.id, a);
    this.emit();
  }

  forget(annotationId: string) {
    this.notes.delete(annotationId);
    this.emit();
  }

  private take(m: ServerMessage) {
    if (!('channel' in m) || m.channel !== this.channel) return;
    switch (m.type) {
      case 'subscribed':
        if (this.joined) void this.reload(); // a re-subscription after a reconnect: catch up
        this.joined = true;
        break;
      case 'room_state': {
        const s = m as Extract<RoomMessage, { type: 'room_state' }>;
        if (!s.part || s.part === 1) {
          this.members.clear();
          this.cursors.clear();
        }
        for (const x of s.members) this.members.set(x.user, x);
        for (const c of s.cursors) this.cursors.set(c.user, c);
        break;
      }
      case 'presence': {
        const p = m as Extract<RoomMessage, { type: 'presence' }>;
        if (p.event === 'leave') {
          this.members.delete(p.member.user);
          this.cursors.delete(p.member.user);
        } else this.members.set(p.member.user, p.member);
        break;
      }
      case 'cursors':
        for (const c of (m as Extract<RoomMessage, { type: 'cursors' }>).cursors) this.cursors.set(c.user, c);
        break;
      case 'annotation': {
        const a = m as Extract<RoomMessage, { type: 'annotation' }>;
        if (a.event === 'deleted') this.notes.delete(a.annotation.id);
        else this.notes.set(a.annotation.id, a.annotation);
        break;
      }
      default:
        return;
    }
    this.emit();
  }

  private emit() {
    const v = this.view();
    for (const l of this.listeners) l(v);
  }
}
