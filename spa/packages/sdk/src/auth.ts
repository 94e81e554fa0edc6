// Auth helpers: the session a client holds. "cookie" mode (browsers on the API's origin): the
// server keeps the tokens in HttpOnly cookies, nothing is stored here. "bearer" mode (Node,
// desktop, mobile): the access and refresh tokens are kept here and sent as
// `Authorization: Bearer`; refresh rotates the pair (the old refresh token then ends the session
// if reused, so only the newest is kept); a persona switch replaces the access token.
import type { components } from './gen/schema.js';

export type AuthMode = 'cookie' | 'bearer';
type TokenBody = components['schemas']['TokenBody'];
type RefreshBody = components['schemas']['RefreshBody'];

export interface Tokens {
  access: string;
  refresh: string | null;
  /** When the access token expires (ms since the epoch). */
  accessExpiresAt: number;
}

export interface SessionInfo {
  user: string;
  persona: string;
  personas: string[];
}

export class Auth {
  /** The kept tokens (bearer mode only). */
  tokens: Tokens | null = null;
  /** Who is signed in, as the last sign-in / refresh / switch said (both modes). */
  session: SessionInfo | null = null;
  /** Called after every change of tokens (e.g. to persist them); `null` after sign-out. */
  onChange: ((t: Tokens | null) => void) | null = null;
  private refresher: ((body: RefreshBody) => Promise<TokenBody | null>) | null = null;
  private refreshing: Promise<boolean> | null = null;

  constructor(readonly mode: AuthMode) {}

  /** Wires the refresh call (done by `createApi`). */
  bind(refresher: (body: RefreshBody) => Promise<TokenBody | null>) {
    this.refresher = refresher;
  }

  /** The Authorization header value to send, if any. */
  authorization(): string | null {
    return this.mode === 'bearer' && this.tokens ? `Bearer ${this.tokens.access}` : null;
  }

  /** Headers for a WebSocket handshake (Node's `ws` takes them; browsers send cookies instead). */
  headers(): Record<string, string> {
    const h = this.authorization();
    return h ? { authorization: h } : {};
  }

  /** Takes a login or refresh answer. */
  set(t: TokenBody) {
    this.session = { user: t.user, persona: t.persona, personas: t.personas };
    if (this.mode !== 'bearer') return;
    if (!t.access_token) throw new Error('bearer sign-in answered without an access token');
    this.tokens = { access: t.access_token, refresh: t.refresh_token ?? this.tokens?.refresh ?? null, accessExpiresAt: Date.now() + t.expires_in * 1000 };
    this.onChange?.(this.tokens);
  }

  /** Restores tokens kept elsewhere (bearer mode). */
  restore(t: Tokens | null) {
    this.tokens = t;
  }

  /** Takes a persona switch answer: bearer callers get a re-issued access token in it. */
  reissued(body: Record<string, unknown>, persona: string) {
    if (this.session) this.session = { ...this.session, persona };
    if (this.mode !== 'bearer' || !this.tokens) return;
    const access = body.access_token;
    if (typeof access !== 'string' || !access) return;
    const ttl = typeof body.expires_in === 'number' ? body.expires_in : 900;
    this.tokens = { ...this.tokens, access, accessExpiresAt: Date.now() + ttl * 1000 };
    this.onChange?.(this.tokens);
  }

  clear() {
    this.tokens = null;
    this.session = null;
    this.onChange?.(null);
  }

  /**
   * Rotates the session: one refresh in flight at a time (concurrent 401s share it). Bearer mode
   * without a refresh token, or a refused refresh, answers false (and forgets the tokens).
   */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    if (!this.refresher) return false;
    let body: RefreshBody;
    if (this.mode === 'bearer') {
      const rt = this.tokens?.refresh;
      if (!rt) return false;
      body = { refresh_token: rt, mode: 'bearer' };
    } else {
      body = { mode: 'cookie' };
    }
    const t = await this.refresher(body).catch(() => null);
    if (!t) {
      if (this.mode === 'bearer') this.clear();
      return false;
    }
    this.set(t);
    return true;
  }
}
