// The WebSocket client in Node (no global WebSocket: the `ws` package's, injected) against a real
// in-process WebSocket server: handshake credentials, subscribe, reconnect with back-off and
// re-subscription resuming with `after_tick`, and a duplicate-free simulation feed.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Live, createApi, followSimulation, liveFor, type SimEvent, type WebSocketCtor } from '../src/index';

const SIM = '11111111-2222-3333-4444-555555555555';
const ev = (tick: number, seq = 0): SimEvent => ({ event: 'tick.advanced', tick, seq, sim_id: SIM, simulated_year: tick / 4, payload: {} }) as SimEvent;

interface Conn {
  socket: WebSocket;
  auth: string | undefined;
  received: Record<string, unknown>[];
}

async function server() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const conns: Conn[] = [];
  wss.on('connection', (socket, req) => {
    const c: Conn = { socket, auth: req.headers.authorization, received: [] };
    conns.push(c);
    socket.on('message', (d) => c.received.push(JSON.parse(String(d))));
  });
  const port = (wss.address() as AddressInfo).port;
  return { wss, conns, url: `http://127.0.0.1:${port}` };
}

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

describe('Live over the ws package', () => {
  it('carries the bearer token in the handshake and subscribes', async () => {
    const s = await server();
    const api = createApi({ baseUrl: s.url, mode: 'bearer', fetch: async () => new Response('{}') });
    api.auth.restore({ access: 'tok-1', refresh: 'r', accessExpiresAt: 0 });
    const live = liveFor(api, { WebSocket: WebSocket as unknown as WebSocketCtor });
    cleanup.push(() => live.close(), () => s.wss.close());
    expect(live.url).toBe(`${s.url.replace('http', 'ws')}/ws`);
    live.subscribe('data');
    await until(() => s.conns[0]?.received.length === 1);
    expect(s.conns[0].auth).toBe('Bearer tok-1');
    expect(s.conns[0].received[0]).toEqual({ action: 'subscribe', channel: 'data' });
    const got: unknown[] = [];
    live.on((m) => got.push(m));
    s.conns[0].socket.send(JSON.stringify({ type: 'subscribed', channel: 'data' }));
    s.conns[0].socket.send('not json');
    s.conns[0].socket.send(JSON.stringify({ type: 'data.refreshed', world_build_id: 7 }));
    await until(() => got.length === 2);
    expect(got).toEqual([{ type: 'subscribed', channel: 'data' }, { type: 'data.refreshed', world_build_id: 7 }]);
    expect(live.confirmed.has('data')).toBe(true);
    // A new token (refresh, persona switch) goes with the next handshake.
    api.auth.restore({ access: 'tok-2', refresh: 'r', accessExpiresAt: 0 });
    live.reconnect();
    await until(() => s.conns.length === 2 && s.conns[1].received.length === 1);
    expect(s.conns[1].auth).toBe('Bearer tok-2');
    expect(live.connects).toBe(2);
  });

  it('reconnects after a drop and resumes the simulation after the last complete tick, without duplicates', async () => {
    const s = await server();
    const live = new Live({ url: `${s.url.replace('http', 'ws')}/ws`, socket: (u) => new WebSocket(u) as never, retryMs: 20 });
    cleanup.push(() => live.close(), () => s.wss.close());
    const seen: number[] = [];
    const { cursor } = followSimulation(live, SIM, { onEvents: (fresh) => seen.push(...fresh.map((e) => e.tick)) });
    await until(() => s.conns[0]?.received.length === 1);
    expect(s.conns[0].received[0]).toEqual({ action: 'subscribe', channel: `sim:${SIM}`, after_tick: -1 });
    const send = (c: Conn, m: Record<string, unknown>) => c.socket.send(JSON.stringify(m));
    send(s.conns[0], { type: 'sim.events', sim_id: SIM, after_tick: -1, through_tick: 2, part: 1, parts: 1, replay: true, events: [ev(0), ev(1), ev(2)] });
    send(s.conns[0], { type: 'sim.tick', sim_id: SIM, tick: 3, from_tick: 3, part: 1, parts: 1, simulated_year: 0.75, state: 'running', events: [ev(3)] });
    // Tick 4 arrives in two parts; only the first before the drop.
    send(s.conns[0], { type: 'sim.tick', sim_id: SIM, tick: 4, from_tick: 4, part: 1, parts: 2, simulated_year: 1, state: 'running', events: [ev(4, 0)] });
    // Another simulation's message is not this feed's.
    send(s.conns[0], { type: 'sim.tick', sim_id: 'other', tick: 9, from_tick: 9, part: 1, parts: 1, simulated_year: 1, state: 'running', events: [ev(9)] });
    await until(() => seen.length === 5);
    expect(cursor.afterTick).toBe(3);
    s.conns[0].socket.terminate();
    await until(() => s.conns[1]?.received.length === 1);
    expect(s.conns[1].received[0]).toEqual({ action: 'subscribe', channel: `sim:${SIM}`, after_tick: 3 });
    // The replay after tick 3 repeats tick 4's first event: kept once.
    send(s.conns[1], { type: 'sim.events', sim_id: SIM, after_tick: 3, through_tick: 5, part: 1, parts: 1, replay: true, events: [ev(4, 0), ev(4, 1), ev(5)] });
    await until(() => seen.length === 7);
    expect(seen).toEqual([0, 1, 2, 3, 4, 4, 5]);
    expect(cursor.duplicates).toBe(1);
    expect(cursor.afterTick).toBe(5);
    expect(live.connects).toBe(2);
  });

  it('close() stops reconnecting; send() reports when it could not send', async () => {
    const s = await server();
    const live = new Live({ url: `${s.url.replace('http', 'ws')}/ws`, socket: (u) => new WebSocket(u) as never, retryMs: 10 });
    cleanup.push(() => s.wss.close());
    expect(live.send({ action: 'ping' })).toBe(false);
    await until(() => live.open);
    expect(live.send({ action: 'ping' })).toBe(true);
    await until(() => s.conns[0]?.received.length === 1);
    live.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(s.conns).toHaveLength(1);
  });

  it('without a global WebSocket, liveFor says what to pass', () => {
    const api = createApi({ baseUrl: 'http://x', mode: 'bearer' });
    expect(() => liveFor(api)).toThrow(/ws/);
  });
});
