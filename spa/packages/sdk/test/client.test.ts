// The API client and its auth helpers against a scripted fetch: the requests it really sends
// (headers, bodies) and what it does with the answers.
import { describe, expect, it } from 'vitest';
import { ApiFailure, allows, createApi } from '../src/index';

interface Seen {
  method: string;
  path: string;
  auth: string | null;
  body: unknown;
  credentials: RequestCredentials;
}

/** A fake API: access tokens `A<n>`, refresh tokens `R<n>`; a used refresh token is refused. */
function fakeServer() {
  const seen: Seen[] = [];
  let n = 0;
  const valid = new Set<string>();
  const usedRefresh = new Set<string>();
  let liveRefresh: string | null = null;
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const pair = (persona = 'general_user') => {
    n++;
    valid.add(`A${n}`);
    liveRefresh = `R${n}`;
    return { access_token: `A${n}`, refresh_token: `R${n}`, token_type: 'Bearer', expires_in: 900, refresh_expires_in: 3600, user: 'u', persona, personas: ['general_user', 'observer_guest'] };
  };
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(req.url);
    const text = req.method === 'GET' ? '' : await req.text();
    const body = text ? JSON.parse(text) : undefined;
    const auth = req.headers.get('authorization');
    seen.push({ method: req.method, path: url.pathname + url.search, auth, body, credentials: req.credentials });
    const token = auth?.replace(/^Bearer /, '');
    if (url.pathname === '/api/auth/login') return json(200, pair());
    if (url.pathname === '/api/auth/refresh') {
      const rt = body?.refresh_token;
      if (usedRefresh.has(rt) || rt !== liveRefresh) return json(401, { error: 'invalid_refresh', message: 'refresh token reused' });
      usedRefresh.add(rt);
      return json(200, pair());
    }
    if (!token || !valid.has(token)) return json(401, { error: 'unauthorized', message: 'token expired' });
    if (url.pathname === '/api/persona' && req.method === 'POST') {
      n++;
      valid.add(`A${n}`);
      return json(200, { current_persona_key: body.persona, available_personas: [], current_persona: { key: body.persona, label: body.persona, menus: [] }, user: 'u', access_token: `A${n}`, token_type: 'Bearer', expires_in: 900 });
    }
    if (url.pathname === '/api/persona') return json(200, { current_persona_key: 'general_user', available_personas: [], current_persona: { key: 'general_user', label: 'General', menus: [] }, user: 'u' });
    return json(404, { error: 'not_found', message: 'no such route' });
  };
  return { seen, fetch, expire: (t: string) => valid.delete(t) };
}

describe('API client, bearer mode', () => {
  it('signs in, sends the access token, refreshes once on 401 with rotation and retries', async () => {
    const s = fakeServer();
    const api = createApi({ baseUrl: 'http://api.test/', mode: 'bearer', fetch: s.fetch });
    const changes: (string | null)[] = [];
    api.auth.onChange = (t) => changes.push(t?.access ?? null);
    const t = await api.login('u', 'pw');
    expect(t.access_token).toBe('A1');
    expect(s.seen[0]).toMatchObject({ path: '/api/auth/login', body: { username: 'u', password: 'pw', mode: 'bearer' }, auth: null, credentials: 'omit' });
    expect(api.auth.tokens).toMatchObject({ access: 'A1', refresh: 'R1' });
    expect(api.auth.session).toEqual({ user: 'u', persona: 'general_user', personas: ['general_user', 'observer_guest'] });

    await api.persona();
    expect(s.seen.at(-1)!.auth).toBe('Bearer A1');

    // The access token expires: one refresh (with the kept refresh token), the call retried.
    s.expire('A1');
    const before = s.seen.length;
    const view = await api.persona();
    expect(view.current_persona_key).toBe('general_user');
    expect(s.seen.slice(before).map((x) => [x.path, x.auth, x.body])).toEqual([
      ['/api/persona', 'Bearer A1', undefined],
      ['/api/auth/refresh', 'Bearer A1', { refresh_token: 'R1', mode: 'bearer' }],
      ['/api/persona', 'Bearer A2', undefined],
    ]);
    expect(api.auth.tokens).toMatchObject({ access: 'A2', refresh: 'R2' });
    expect(changes).toEqual(['A1', 'A2']);
  });

  it('concurrent 401s share one refresh', async () => {
    const s = fakeServer();
    const api = createApi({ baseUrl: 'http://api.test', mode: 'bearer', fetch: s.fetch });
    await api.login('u', 'pw');
    s.expire('A1');
    await Promise.all([api.persona(), api.persona(), api.persona()]);
    expect(s.seen.filter((x) => x.path === '/api/auth/refresh')).toHaveLength(1);
    expect(s.seen.filter((x) => x.path === '/api/persona').map((x) => x.auth)).toEqual(['Bearer A1', 'Bearer A1', 'Bearer A1', 'Bearer A2', 'Bearer A2', 'Bearer A2']);
  });

  it('a refused refresh forgets the session and surfaces the 401', async () => {
    const s = fakeServer();
    const api = createApi({ baseUrl: 'http://api.test', mode: 'bearer', fetch: s.fetch });
    await api.login('u', 'pw');
    // Someone else rotated the pair: R1 is spent.
    await api.refresh();
    api.auth.restore({ access: 'A1', refresh: 'R1', accessExpiresAt: 0 });
    s.expire('A1');
    const err = await api.persona().catch((e) => e);
    expect(err).toBeInstanceOf(ApiFailure);
    expect((err as ApiFailure).status).toBe(401);
    expect(api.auth.tokens).toBeNull();
    expect(api.auth.session).toBeNull();
  });

  it('a persona switch replaces the access token (and keeps the refresh token)', async () => {
    const s = fakeServer();
    const api = createApi({ baseUrl: 'http://api.test', mode: 'bearer', fetch: s.fetch });
    await api.login('u', 'pw');
    const v = await api.switchPersona('observer_guest');
    expect(v.current_persona_key).toBe('observer_guest');
    expect(s.seen.at(-1)).toMatchObject({ method: 'POST', path: '/api/persona', body: { persona: 'observer_guest' }, auth: 'Bearer A1' });
    expect(api.auth.tokens).toMatchObject({ access: 'A2', refresh: 'R1' });
    expect(api.auth.session?.persona).toBe('observer_guest');
    expect(api.auth.headers()).toEqual({ authorization: 'Bearer A2' });
    await api.persona();
    expect(s.seen.at(-1)!.auth).toBe('Bearer A2');
  });

  it('errors carry the status and the error envelope', async () => {
    const s = fakeServer();
    const api = createApi({ baseUrl: 'http://api.test', mode: 'bearer', fetch: s.fetch });
    await api.login('u', 'pw');
    const err = (await api.run('00000000-0000-0000-0000-000000000000').catch((e) => e)) as ApiFailure;
    expect([err.status, err.body?.error, err.message]).toEqual([404, 'not_found', 'no such route']);
  });
});

describe('API client, cookie mode', () => {
  it('sends no Authorization header and refreshes by cookie', async () => {
    const s = fakeServer();
    const api = createApi({ fetch: s.fetch, baseUrl: 'http://api.test' });
    await api.login('u', 'pw');
    expect(s.seen[0].body).toEqual({ username: 'u', password: 'pw', mode: 'cookie' });
    expect(api.auth.tokens).toBeNull();
    const err = (await api.persona().catch((e) => e)) as ApiFailure;
    expect(err.status).toBe(401);
    expect(s.seen.slice(1).map((x) => [x.path, x.auth, x.body, x.credentials])).toEqual([
      ['/api/persona', null, undefined, 'include'],
      ['/api/auth/refresh', null, { mode: 'cookie' }, 'include'],
    ]);
  });
});

describe('permission rows', () => {
  it('allows() follows the generated x-personas', () => {
    expect(allows('runs_start', 'admin')).toBe(true);
    expect(allows('runs_start', 'general_user')).toBe(false);
    expect(allows('system_get', 'observer_guest')).toBe(true);
    expect(allows('system_get', undefined)).toBe(false);
  });
});
