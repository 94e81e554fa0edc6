// The WebSocket channel (`/ws`): subscribe to channels, receive the typed server messages,
// reconnect with back-off and re-subscribe (a `sim:<id>` channel resumes with `after_tick`, see
// SimCursor). The server records a connection's persona when it connects: reconnect after a
// sign-in or a persona switch. `WebSocket` is injectable: browsers use theirs (the session
// cookie goes with the handshake); Node 20 has none, pass the `ws` package's (`liveFor`).
import type { ApiClient, ServerMessage } from './client.js';

/** What Live needs of a WebSocket (the browser's and the `ws` package's both fit). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: never) => unknown) | null;
  onmessage: ((ev: { data: unknown }) => unknown) | null;
  onclose: ((ev: never) => unknown) | null;
  onerror: ((ev: never) => unknown) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Opens a socket to `url` (called at every (re)connect, so it can carry fresh credentials). */
export type SocketFactory = (url: string) => SocketLike;

/** A message the server sends (the OpenAPI document's `ServerMessage` union). */
export type LiveMessage = ServerMessage;

type Listener = (m: LiveMessage) => void;
const OPEN = 1;

export interface LiveOptions {
  /** The WebSocket URL (default: `/ws` on the page's origin). */
  url?: string;
  /** How to open a socket (default: the global `WebSocket`). */
  socket?: SocketFactory;
  /** Back-off: first retry after this many ms, doubling up to `maxRetryMs` (defaults 500 / 10 000). */
  retryMs?: number;
  maxRetryMs?: number;
}

function pageUrl(): string {
  const loc = (globalThis as { location?: Location }).location;
  if (!loc) throw new Error('Live: no `url` given and no page location (pass the gateway\'s ws:// URL)');
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export class Live {
  private ws: SocketLike | null = null;
  private readonly channels = new Set<string>();
  /** Per channel, where a (re)subscription resumes: `after_tick` of `sim:<id>` (see SimCursor). */
  private readonly resume = new Map<string, () => number | undefined>();
  /** Connections opened so far (for tests: a reconnect shows here). */
  connects = 0;
  private readonly listeners = new Set<Listener>();
  private readonly openListeners = new Set<() => void>();
  private retry = 0;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Channels the server confirmed (for tests and the status dot). */
  readonly confirmed = new Set<string>();
  readonly url: string;
  private readonly factory: SocketFactory;

  constructor(opts: LiveOptions | string = {}) {
    const o = typeof opts === 'string' ? { url: opts } : opts;
    this.url = o.url ?? pageUrl();
    this.factory = o.socket ?? ((u) => new (globalThis as unknown as { WebSocket: new (u: string) => SocketLike }).WebSocket(u));
    this.retryMs = o.retryMs ?? 500;
    this.maxRetryMs = o.maxRetryMs ?? 10_000;
    this.connect();
  }
  private readonly retryMs: number;
  private readonly maxRetryMs: number;

  /** Is the socket open now? */
  get open(): boolean {
    return this.ws?.readyState === OPEN;
  }

  private connect() {
    if (this.closed) return;
    let ws: SocketLike;
    try {
      ws = this.factory(this.url);
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.connects++;
      for (const c of this.channels) this.sendSubscribe(ws, c);
      for (const l of this.openListeners) l();
    };
    ws.onmessage = (e) => {
      let m: LiveMessage;
      try {
        m = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (!m || typeof m !== 'object' || typeof m.type !== 'string') return;
      if (m.type === 'subscribed') this.confirmed.add(m.channel);
      for (const l of this.listeners) l(m);
    };
    ws.onerror = () => undefined;
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.confirmed.clear();
      if (this.closed) return;
      this.schedule();
    };
  }

  private schedule() {
    const delay = Math.min(this.maxRetryMs, this.retryMs * 2 ** this.retry++);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private sendSubscribe(ws: SocketLike, channel: string) {
    const after = this.resume.get(channel)?.();
    ws.send(JSON.stringify(after === undefined ? { action: 'subscribe', channel } : { action: 'subscribe', channel, after_tick: after }));
  }

  /** Subscribes; `afterTick` (asked at every (re)connect) makes the server replay the ticks after it. */
  subscribe(channel: string, afterTick?: () => number | undefined) {
    this.channels.add(channel);
    if (afterTick) this.resume.set(channel, afterTick);
    if (this.ws?.readyState === OPEN) this.sendSubscribe(this.ws, channel);
  }

  unsubscribe(channel: string) {
    this.channels.delete(channel);
    this.resume.delete(channel);
    this.confirmed.delete(channel);
    if (this.ws?.readyState === OPEN) this.ws.send(JSON.stringify({ action: 'unsubscribe', channel }));
  }

  /** Sends an action now if connected (answers whether it was sent; nothing is queued). */
  send(msg: Record<string, unknown>): boolean {
    if (this.ws?.readyState !== OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  on(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Called after every (re)connect, once the channels are subscribed again. */
  onOpen(l: () => void): () => void {
    this.openListeners.add(l);
    return () => this.openListeners.delete(l);
  }

  /** Drops the connection and connects again (new credentials). */
  reconnect() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const old = this.ws;
    this.ws = null;
    this.confirmed.clear();
    old?.close();
    this.connect();
  }

  /** Drops the connection as a network failure would: the usual back-off reconnect follows. */
  drop() {
    this.ws?.close();
  }

  close() {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.ws?.close();
  }
}

/** A WebSocket constructor: the browser's, or the `ws` package's (which takes handshake headers). */
export type WebSocketCtor = new (url: string, protocolsOrOptions?: never) => SocketLike;

/**
 * A Live connection for an API client: the URL from its `baseUrl` (`http…` → `ws…/ws`), and in
 * bearer mode the current access token in the handshake (`ws`-style constructor with options).
 */
export function liveFor(api: Pick<ApiClient, 'baseUrl' | 'mode' | 'auth'>, opts: { WebSocket?: WebSocketCtor; url?: string } & Omit<LiveOptions, 'url' | 'socket'> = {}): Live {
  const url = opts.url ?? (api.baseUrl ? `${api.baseUrl.replace(/^http/, 'ws')}/ws` : undefined);
  const Ctor = (opts.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketCtor }).WebSocket) as
    | (new (url: string, options?: { headers: Record<string, string> }) => SocketLike)
    | undefined;
  if (!Ctor) throw new Error('liveFor: no WebSocket here (Node 20: pass `WebSocket` from the `ws` package)');
  const socket: SocketFactory =
    api.mode === 'bearer' ? (u) => new Ctor(u, { headers: api.auth.headers() }) : (u) => new Ctor(u);
  return new Live({ ...opts, url, socket });
}
