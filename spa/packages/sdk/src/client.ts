// The API client: every call to the ExoMaps API, typed by the generated OpenAPI types
// (gen/schema.ts, gen/access.gen.ts). Two ways to hold a session (auth.ts): "cookie" (a browser
// on the same origin: HttpOnly cookies) or "bearer" (Node, desktop, mobile: the tokens are kept
// by the client and sent as `Authorization: Bearer`). A 401 is retried once after a refresh
// (refresh-token rotation). `fetch` is injectable.
import createClient from 'openapi-fetch';
import { Auth, type AuthMode } from './auth.js';
import { OPERATIONS, type OperationId } from './gen/access.gen.js';
import type { components, paths } from './gen/schema.js';

export type Schemas = components['schemas'];
export type PersonaView = Schemas['PersonaView'];
export type TokenBody = Schemas['TokenBody'];
export type RunStarted = Schemas['RunStarted'];
export type RunDetail = Schemas['RunDetail'];
export type ManifestPage = Schemas['ManifestPage'];
export type Validation = Schemas['Validation'];
export type SystemDetail = Schemas['SystemDetail'];
export type WorldPointer = Schemas['WorldPointer'];
export type ServerMessage = Schemas['ServerMessage'];
export type ErrorEnvelope = Schemas['ErrorEnvelope'];
export type SearchResults = Schemas['SearchResults'];
export type SimulationView = Schemas['SimulationView'];
export type SimulationDetail = Schemas['SimulationDetail'];
export type SimSnapshot = Schemas['SimSnapshot'];
export type SimEventsPage = Schemas['SimEventsPage'];
export type SimEvent = Schemas['SimEventEnvelope'];
export type CreateSimulation = Schemas['CreateSimulation'];

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly body: Partial<ErrorEnvelope> | undefined) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = 'ApiFailure';
  }
}

/** May `persona` call this operation (its permission row)? */
export function allows(op: OperationId, persona: string | undefined): boolean {
  return !!persona && (OPERATIONS[op].personas as readonly string[]).includes(persona);
}

export interface ClientOptions {
  /** Where the API is: `''` (default) for the page's own origin, else e.g. `http://127.0.0.1:5000`. */
  baseUrl?: string;
  /** "cookie" (default; browsers) or "bearer" (every other client). */
  mode?: AuthMode;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export type ApiClient = ReturnType<typeof createApi>;

/** A client for one API origin. `auth` holds the session; `raw` is the typed openapi-fetch client. */
export function createApi(opts: ClientOptions = {}) {
  const baseUrl = (opts.baseUrl ?? '').replace(/\/+$/, '');
  const mode: AuthMode = opts.mode ?? 'cookie';
  const doFetch: typeof fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const credentials: RequestCredentials = mode === 'cookie' ? (baseUrl ? 'include' : 'same-origin') : 'omit';
  const auth = new Auth(mode);
  const api = createClient<paths>({ baseUrl, credentials, fetch: (req: Request) => doFetch(req) });
  api.use({
    onRequest({ request }) {
      const h = auth.authorization();
      if (h && !request.headers.has('authorization')) request.headers.set('authorization', h);
      return request;
    },
  });
  auth.bind(async (body) => {
    const r = await api.POST('/api/auth/refresh', { body });
    return r.response.ok && r.data ? r.data : null;
  });

  /** Runs a call; on 401 refreshes the session once and retries; throws ApiFailure on errors. */
  async function call<T>(run: () => Promise<Result<T>>, retry = true): Promise<T> {
    const r = await run();
    if (r.response.status === 401 && retry && (await auth.refresh())) return call(run, false);
    if (!r.response.ok || r.data === undefined) throw new ApiFailure(r.response.status, r.error as ErrorEnvelope | undefined);
    return r.data;
  }

  /** A call answering without a JSON body (204). */
  async function callEmpty(run: () => Promise<Result<unknown>>, retry = true): Promise<void> {
    const r = await run();
    if (r.response.status === 401 && retry && (await auth.refresh())) return callEmpty(run, false);
    if (!r.response.ok) throw new ApiFailure(r.response.status, r.error as ErrorEnvelope | undefined);
  }

  /** A GET outside the OpenAPI document (the object store), with the session's headers. */
  async function get(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const h = auth.authorization();
    if (h) headers.set('authorization', h);
    return doFetch(`${baseUrl}${path}`, { credentials, ...init, headers });
  }

  return {
    raw: api,
    auth,
    baseUrl,
    mode,
    call,
    callEmpty,
    /** Signs in (the tokens are kept by `auth` in bearer mode; cookies are set in cookie mode). */
    login: async (username: string, password: string) => {
      const t = await call(() => api.POST('/api/auth/login', { body: { username, password, mode } }), false);
      auth.set(t);
      return t;
    },
    /** Ends the session (server side too) and forgets the tokens. */
    logout: async () => {
      await api.POST('/api/auth/logout').catch(() => undefined);
      auth.clear();
    },
    /** A new token pair now (rotation: the old refresh token stops working). */
    refresh: () => auth.refresh(),
    persona: () => call(() => api.GET('/api/persona')),
    /** Switches persona; in bearer mode the re-issued access token replaces the kept one. */
    switchPersona: async (persona: string) => {
      const view = await call(() => api.POST('/api/persona', { body: { persona } }));
      auth.reissued(view as unknown as Record<string, unknown>, persona);
      return view;
    },
    startRun: (run_name?: string) => call(() => api.POST('/api/runs', { body: run_name ? { run_name } : {} })),
    run: (run_id: string) => call(() => api.GET('/api/runs/{run_id}', { params: { path: { run_id } } })),
    manifest: (limit = 20) => call(() => api.GET('/api/runs/manifest', { params: { query: { limit } } })),
    validation: (run_id: string, limit = 100, offset = 0) =>
      call(() => api.GET('/api/runs/validation/{run_id}', { params: { path: { run_id }, query: { limit, offset } } })),
    simList: (limit = 50) => call(() => api.GET('/api/simulation', { params: { query: { limit } } })),
    simGet: (id: string) => call(() => api.GET('/api/simulation/{id}', { params: { path: { id } } })),
    simCreate: (body: CreateSimulation) => call(() => api.POST('/api/simulation', { body })),
    simSnapshot: (id: string, tick?: number, observer?: string) =>
      call(() => api.GET('/api/simulation/{id}/snapshot', { params: { path: { id }, query: { tick, observer } } })),
    simEvents: (id: string, after_tick: number, after_seq?: number, limit = 500) =>
      call(() => api.GET('/api/simulation/{id}/events', { params: { path: { id }, query: { after_tick, after_seq, limit } } })),
    simPause: (id: string) => call(() => api.POST('/api/simulation/{id}/pause', { params: { path: { id } } })),
    simResume: (id: string) => call(() => api.POST('/api/simulation/{id}/resume', { params: { path: { id } } })),
    simStep: (id: string, n = 1) => call(() => api.POST('/api/simulation/{id}/step', { params: { path: { id } }, body: { n } })),
    simFork: (id: string, at_tick: number) => call(() => api.POST('/api/simulation/{id}/fork', { params: { path: { id } }, body: { at_tick } })),
    /** GET /api/system/{id} (id = main_id, URL-encoded). */
    system: async (mainId: string): Promise<SystemDetail> => {
      const res = await get(`/api/system/${encodeURIComponent(mainId)}`);
      const body = await res.json().catch(() => undefined);
      if (!res.ok) throw new ApiFailure(res.status, body);
      return body as SystemDetail;
    },
    /** GET /api/search: systems by any name, exact > prefix > fuzzy (typos, accents, Greek). */
    search: (q: string, limit = 12, signal?: AbortSignal) =>
      call(() => api.GET('/api/search', { params: { query: { q, limit } }, signal })),
    /** The published map pointer (null when nothing is published yet). */
    worldPointer: async (): Promise<WorldPointer | null> => {
      const res = await get('/data/world/latest.json', { cache: 'no-store' });
      if (res.status === 404) return null;
      if (!res.ok) throw new ApiFailure(res.status, undefined);
      return (await res.json()) as WorldPointer;
    },
    /** The bytes of a published map asset (decode with `decodeAsset`). */
    assetBytes: async (path: string): Promise<ArrayBuffer> => {
      const res = await get(path);
      if (!res.ok) throw new ApiFailure(res.status, undefined);
      return res.arrayBuffer();
    },
  };
}

export const simbadUrl = (mainId: string) => `https://simbad.u-strasbg.fr/simbad/sim-id?Ident=${encodeURIComponent(mainId)}`;
