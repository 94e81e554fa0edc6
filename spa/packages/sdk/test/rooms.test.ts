// Rooms: the client-side cursor throttle (fake clock) and RoomSession against a real in-process
// WebSocket server speaking the room channel's messages (ROOMS-CONTRACT.md).
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { CursorThrottle, Live, RoomSession, createApi, roomsApi, type Annotation, type Clock, type RoomView } from '../src/index';

function fakeClock() {
  let t = 0;
  const timers: { at: number; f: () => void; id: number }[] = [];
  let next = 1;
  const clock: Clock = {
    now: () => t,
    setTimeout: (f, ms) => {
      const id = next++;
      timers.push({ at: t + ms, f, id });
      return id;
    },
    clearTimeout: (id) => {
      const i = timers.findIndex((x) => x.id === id);
      if (i >= 0) timers.splice(i, 1);
    },
  };
  const advance = (ms: number) => {
    const end = t + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const x = timers[0];
      if (!x || x.at > end) break;
      timers.shift();
      t = x.at;
      x.f();
    }
    t = end;
  };
  return { clock, advance };
}

describe('CursorThrottle', () => {
  it('sends at most 10 per second while moving, the latest value, and the resting one once more', () => {
    const { clock, advance } = fakeClock();
    const sent: [number, number][] = [];
    const th = new CursorThrottle<number>((v) => sent.push([clock.now(), v]), 100, 200, clock);
    // A pointer moving for 2 s, 60 moves per second.
    for (let i = 0; i < 120; i++) {
      th.push(i);
      advance(1000 / 60);
    }
    const moving = sent.length;
    expect(moving).toBeGreaterThanOrEqual(19);
    expect(moving).toBeLessThanOrEqual(21);
    for (let k = 1; k < sent.length; k++) expect(sent[k][0] - sent[k - 1][0]).toBeGreaterThanOrEqual(100);
    // In any one second, ≤ 10.
    for (let s = 0; s < 2000; s += 50) expect(sent.filter(([at]) => at >= s && at < s + 1000).length).toBeLessThanOrEqual(10);
    advance(1000);
    // The last position arrives (the trailing send), then once more after it settles, and no more.
    expect(sent.at(-1)![1]).toBe(119);
    expect(sent.filter(([, v]) => v === 119).length).toBe(2);
    expect(sent.length).toBeLessThanOrEqual(moving + 2);
    const n = sent.length;
    advance(5000);
    expect(sent.length).toBe(n);
  });

  it('a single move is sent at once, and again when it rests', () => {
    const { clock, advance } = fakeClock();
    const sent: number[] = [];
    const th = new CursorThrottle<number>((v) => sent.push(v), 100, 200, clock);
    th.push(7);
    expect(sent).toEqual([7]);
    advance(199);
    expect(sent).toEqual([7]);
    advance(1);
    expect(sent).toEqual([7, 7]);
    th.stop();
  });
});

const ROOM = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const note = (id: string, text: string, at: string): Annotation => ({
  id, room_id: ROOM, system_id: 'Tau Ceti', system_name: 'Tau Ceti', point: null, text, link: null, author: 'bob', author_persona: 'general_user', created_at: at, updated_at: at,
});

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

describe('RoomSession', () => {
  it('follows members, cursors and annotations; sends its cursor; reloads after a reconnect', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const socks: { s: WebSocket; got: Record<string, unknown>[] }[] = [];
    wss.on('connection', (s) => {
      const c = { s, got: [] as Record<string, unknown>[] };
      socks.push(c);
      s.on('message', (d) => c.got.push(JSON.parse(String(d))));
    });
    const live = new Live({ url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, socket: (u) => new WebSocket(u) as never, retryMs: 20 });
    cleanup.push(() => live.close(), () => wss.close());
    let listed = [note('n1', 'first', '2026-01-01T00:00:00Z')];
    const annotations = vi.fn(async () => listed);
    const rooms = { ...roomsApi(createApi({ baseUrl: 'http://api.test', fetch: async () => new Response('{}') })), annotations };
    const room = new RoomSession(live, ROOM, rooms, () => 'alice', { intervalMs: 100, settleMs: 200 }).start();
    let view: RoomView | null = null;
    room.onChange((v) => (view = v));
    const ch = `room:${ROOM}`;
    await until(() => socks[0]?.got.length === 1);
    expect(socks[0].got[0]).toEqual({ action: 'subscribe', channel: ch });
    await until(() => view!.annotations.length === 1);
    const send = (m: Record<string, unknown>) => socks.at(-1)!.s.send(JSON.stringify(m));
    send({ type: 'subscribed', channel: ch });
    send({ type: 'room_state', channel: ch, members: [{ user: 'alice', persona: 'admin' }, { user: 'bob', persona: 'general_user' }], cursors: [{ user: 'bob', persona: 'general_user', target: { system_id: 'Sirius' }, selection: null, at: '2026-01-01T00:00:01Z' }] });
    await until(() => view!.members.length === 2 && view!.joined);
    expect(view!.cursors.map((c) => [c.user, c.target])).toEqual([['bob', { system_id: 'Sirius' }]]);
    // Own cursor echoes are not "others' cursors"; another room's messages are not this room's.
    send({ type: 'cursors', channel: ch, cursors: [{ user: 'alice', persona: 'admin', target: { system_id: 'Sol' }, selection: null, at: 'x' }, { user: 'bob', persona: 'general_user', target: { point: [1, 2, 3] }, selection: 'Sirius', at: 'y' }] });
    send({ type: 'cursors', channel: 'room:other', cursors: [{ user: 'carol', persona: 'admin', target: null, selection: null, at: 'z' }] });
    send({ type: 'annotation', channel: ch, event: 'created', annotation: note('n2', '<script>alert(1)</script>', '2026-01-01T00:00:02Z') });
    await until(() => view!.annotations.length === 2);
    expect(view!.cursors).toEqual([{ user: 'bob', persona: 'general_user', target: { point: [1, 2, 3] }, selection: 'Sirius', at: 'y' }]);
    expect(view!.annotations.map((a) => a.text)).toEqual(['first', '<script>alert(1)</script>']);
    send({ type: 'annotation', channel: ch, event: 'updated', annotation: { ...note('n1', 'edited', '2026-01-01T00:00:00Z') } });
    send({ type: 'annotation', channel: ch, event: 'deleted', annotation: note('n2', 'x', '2026-01-01T00:00:02Z') });
    send({ type: 'presence', channel: ch, event: 'leave', member: { user: 'bob', persona: 'general_user' } });
    await until(() => view!.members.length === 1);
    expect(view!.annotations.map((a) => a.text)).toEqual(['edited']);
    expect(view!.cursors).toEqual([]);

    room.setCursor({ system_id: 'Tau Ceti' }, 'Tau Ceti');
    await until(() => socks[0].got.length === 2);
    expect(socks[0].got[1]).toEqual({ action: 'cursor', room: ROOM, target: { system_id: 'Tau Ceti' }, selection: 'Tau Ceti' });

    // Dropped: re-subscribed on the new connection, and the annotations listed again (missed changes).
    listed = [note('n1', 'edited', '2026-01-01T00:00:00Z'), note('n3', 'while away', '2026-01-01T00:00:03Z')];
    socks[0].s.terminate();
    await until(() => socks[1]?.got.some((m) => m.action === 'subscribe'));
    send({ type: 'subscribed', channel: ch });
    await until(() => view!.annotations.length === 2);
    expect(view!.annotations.map((a) => a.text)).toEqual(['edited', 'while away']);
    expect(annotations).toHaveBeenCalledTimes(2);
    room.stop();
    await until(() => socks[1].got.some((m) => m.action === 'unsubscribe'));
  });
});

describe('roomsApi', () => {
  it('sends the contract requests and surfaces refusals', async () => {
    const seen: [string, string, unknown][] = [];
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = input instanceof Request ? input : new Request(String(input), init);
      const text = req.method === 'GET' || req.method === 'DELETE' ? '' : await req.text();
      const url = new URL(req.url);
      seen.push([req.method, url.pathname, text ? JSON.parse(text) : undefined]);
      if (req.method === 'DELETE' && url.pathname.endsWith('/theirs')) return new Response(JSON.stringify({ error: 'forbidden', message: 'not your note' }), { status: 403 });
      if (req.method === 'DELETE') return new Response(null, { status: 204 });
      if (url.pathname.endsWith('/annotations') && req.method === 'GET') return Response.json({ annotations: [note('n1', 'a', 't')] });
      return Response.json({ id: 'x' }, { status: req.method === 'POST' ? 201 : 200 });
    };
    const r = roomsApi(createApi({ baseUrl: 'http://api.test', mode: 'bearer', fetch }));
    await r.create('Lab');
    expect((await r.annotations(ROOM)).map((a) => a.id)).toEqual(['n1']);
    await r.annotate(ROOM, { system_id: 'Tau Ceti', text: '<script>' });
    await r.edit(ROOM, 'mine', { text: 'new', link: null });
    await r.remove(ROOM, 'mine');
    const err = await r.remove(ROOM, 'theirs').catch((e) => e);
    expect([err.status, err.message]).toEqual([403, 'not your note']);
    expect((await r.broadcast('hello', 'warning'))).toEqual({ id: 'x' });
    expect(seen).toEqual([
      ['POST', '/api/rooms', { name: 'Lab' }],
      ['GET', `/api/rooms/${ROOM}/annotations`, undefined],
      ['POST', `/api/rooms/${ROOM}/annotations`, { system_id: 'Tau Ceti', text: '<script>' }],
      ['PATCH', `/api/rooms/${ROOM}/annotations/mine`, { text: 'new', link: null }],
      ['DELETE', `/api/rooms/${ROOM}/annotations/mine`, undefined],
      ['DELETE', `/api/rooms/${ROOM}/annotations/theirs`, undefined],
      ['POST', '/api/admin/broadcast', { message: 'hello', level: 'warning' }],
    ]);
  });
});
