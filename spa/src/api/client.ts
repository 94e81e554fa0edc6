// The one API client: every call to the ExoMaps API, typed by the generated OpenAPI types
// (schema.ts, access.gen.ts). Same origin, session in HttpOnly cookies ("cookie" mode); a 401
// on an expired access token is retried once after a refresh.
import createClient from 'openapi-fetch';
import { OPERATIONS, type OperationId } from './access.gen';
import type { components, paths } from './schema';

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
export type CreateSimulation = Schemas['CreateSimulation'];

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly body: Partial<ErrorEnvelope> | undefined) {
    super(body?.message ?? `HTTP ${status}`);
  }
}

const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

let refreshing: Promise<boolean> | null = null;
async function refresh(): Promise<boolean> {
  refreshing ??= api
    .POST('/api/auth/refresh', { body: { mode: 'cookie' } })
    .then((r) => r.response.ok)
    .catch(() => false)
    .finally(() => (refreshing = null));
  return refreshing;
}

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Runs a call; on 401 refreshes the session once and retries; throws ApiFailure on errors. */
async function call<T>(run: () => Promise<Result<T>>, retry = true): Promise<T> {
  const r = await run();
  if (r.response.status === 401 && retry && (await refresh())) return call(run, false);
  if (!r.response.ok || r.data === undefined) throw new ApiFailure(r.response.status, r.error as ErrorEnvelope | undefined);
  return r.data;
}

/** May `persona` call this operation (its permission row)? */
export function allows(op: OperationId, persona: string | undefined): boolean {
  return !!persona && (OPERATIONS[op].personas as readonly string[]).includes(persona);
}

export const Api = {
  persona: () => call(() => api.GET('/api/persona')),
  switchPersona: (persona: string) => call(() => api.POST('/api/persona', { body: { persona } })),
  login: (username: string, password: string) =>
    call(() => api.POST('/api/auth/login', { body: { username, password, mode: 'cookie' } }), false),
  logout: async () => {
    await api.POST('/api/auth/logout');
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
    const res = await fetch(`/api/system/${encodeURIComponent(mainId)}`, { credentials: 'same-origin' });
    const body = await res.json().catch(() => undefined);
    if (!res.ok) throw new ApiFailure(res.status, body);
    return body as SystemDetail;
  },
  /** GET /api/search: systems by any name, exact > prefix > fuzzy (typos, accents, Greek). */
  search: (q: string, limit = 12, signal?: AbortSignal) =>
    call(() => api.GET('/api/search', { params: { query: { q, limit } }, signal })),
  /** The published map pointer (null when nothing is published yet). */
  worldPointer: async (): Promise<WorldPointer | null> => {
    const res = await fetch('/data/world/latest.json', { cache: 'no-store' });
    if (res.status === 404) return null;
    if (!res.ok) throw new ApiFailure(res.status, undefined);
    return (await res.json()) as WorldPointer;
  },
  assetBytes: async (path: string): Promise<ArrayBuffer> => {
    const res = await fetch(path);
    if (!res.ok) throw new ApiFailure(res.status, undefined);
    return res.arrayBuffer();
  },
};

export const simbadUrl = (mainId: string) => `https://simbad.u-strasbg.fr/simbad/sim-id?Ident=${encodeURIComponent(mainId)}`;
