// The WebSocket channel (/ws on the same origin): subscribe to channels, receive the typed
// server messages, reconnect with back-off and re-subscribe. Reconnect after a sign-in or a
// persona switch: the server records a connection's persona when it connects.
import type { ServerMessage } from './client';

type Listener = (m: ServerMessage) => void;

export class Live {
  private ws: WebSocket | null = null;
  private readonly channels = new Set<string>();
  /** Per channel, where a (re)subscription resumes: `after_tick` of `sim:<id>` (see SimCursor). */
  private readonly resume = new Map<string, () => number | undefined>();
  /** Connections opened so far (for tests: a reconnect shows here). */
  connects = 0;
  private readonly listeners = new Set<Listener>();
  private retry = 0;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Channels the server confirmed (for tests and the status dot). */
  readonly confirmed = new Set<string>();

  constructor(private readonly url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`) {
    this.connect();
  }

  private connect() {
    if (this.closed) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.connects++;
      for (const c of this.channels) this.send(ws, c);
    };
    ws.onmessage = (e) => {
      let m: ServerMessage;
      try {
        m = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (m.type === 'subscribed') this.confirmed.add(m.channel);
      for (const l of this.listeners) l(m);
    };
    ws.onclose = () => {
      this.confirmed.clear();
      if (this.ws !== ws || this.closed) return;
      const delay = Math.min(10_000, 500 * 2 ** this.retry++);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  private send(ws: WebSocket, channel: string) {
    const after = this.resume.get(channel)?.();
    ws.send(JSON.stringify(after === undefined ? { action: 'subscribe', channel } : { action: 'subscribe', channel, after_tick: after }));
  }

  /** Subscribes; `afterTick` (asked at every (re)connect) makes the server replay the ticks after it. */
  subscribe(channel: string, afterTick?: () => number | undefined) {
    this.channels.add(channel);
    if (afterTick) this.resume.set(channel, afterTick);
    if (this.ws?.readyState === WebSocket.OPEN) this.send(this.ws, channel);
  }

  unsubscribe(channel: string) {
    this.channels.delete(channel);
    this.resume.delete(channel);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ action: 'unsubscribe', channel }));
  }

  on(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Drops the connection and connects again (new credentials). */
  reconnect() {
    if (this.timer) clearTimeout(this.timer);
    const old = this.ws;
    this.ws = null;
    old?.close();
    this.connect();
  }

  /** Drops the connection as a network failure would: the usual back-off reconnect follows. */
  drop() {
    this.ws?.close();
  }

  close() {
    this.closed = true;
    this.ws?.close();
  }
}
