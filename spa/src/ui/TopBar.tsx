import { useEffect, useState } from 'react';
import type { PersonaView } from '@exomaps/sdk';
import { Api } from '../api';
import { menuTarget } from '../session';

interface Props {
  session: PersonaView | null;
  onSession: (s: PersonaView | null) => void;
  path: string;
  go: (p: string) => void;
  pipelineAllowed: boolean;
}

export function TopBar({ session, onSession, path, go, pipelineAllowed }: Props) {
  const [loginOpen, setLoginOpen] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const signedIn = !!session?.user;
  // A new session or persona closes the menu.
  useEffect(() => setMenuOpen(false), [session?.user, session?.current_persona_key]);

  const login = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    try {
      await Api.login(String(f.get('username')), String(f.get('password')));
      setError(null);
      setLoginOpen(false);
      onSession(await Api.persona());
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const logout = async () => {
    await Api.logout();
    onSession(null);
    if (path === '/pipeline') go('/');
  };
  const switchTo = async (key: string) => {
    try {
      onSession(await Api.switchPersona(key));
      setMenuOpen(false);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <header className="topbar">
      <a className="brand" href="/" onClick={(e) => (e.preventDefault(), go('/'))}>ExoMaps</a>
      <nav>
        <a href="/" className={path === '/' ? 'active' : ''} onClick={(e) => (e.preventDefault(), go('/'))}>Map</a>
        {pipelineAllowed && (
          <a href="/pipeline" data-testid="nav-pipeline" className={path === '/pipeline' ? 'active' : ''} onClick={(e) => (e.preventDefault(), go('/pipeline'))}>
            Pipeline
          </a>
        )}
      </nav>
      <div className="spacer" />
      {session && (
        <div className="persona">
          <button data-testid="persona-button" onClick={() => setMenuOpen((o) => !o)} title={session.current_persona.description}>
            {session.current_persona.label} ▾
          </button>
          {menuOpen && (
            <div className="menu" data-testid="persona-menu">
              <div className="menu-title">{session.current_persona.label} menus</div>
              {session.current_persona.menus.map((m) => {
                const target = menuTarget(m);
                const usable = target === '/' || (target === '/pipeline' && pipelineAllowed);
                return usable ? (
                  <a key={m} href={target!} onClick={(e) => (e.preventDefault(), setMenuOpen(false), go(target!))}>{m}</a>
                ) : (
                  <span key={m} className="disabled" title="not available yet">{m}</span>
                );
              })}
              {session.available_personas.length > 1 && <div className="menu-title">Switch persona</div>}
              {session.available_personas.length > 1 &&
                session.available_personas.map((p) => (
                  <button key={p.key} data-testid={`switch-${p.key}`} disabled={p.key === session.current_persona_key} onClick={() => switchTo(p.key)}>
                    {p.label}
                  </button>
                ))}
            </div>
          )}
        </div>
      )}
      {signedIn ? (
        <>
          <span className="user" data-testid="user">{session!.user}</span>
          <button data-testid="logout" onClick={logout}>Sign out</button>
        </>
      ) : (
        <button data-testid="login-open" onClick={() => setLoginOpen((o) => !o)}>Sign in</button>
      )}
      {loginOpen && !signedIn && (
        <form className="login" onSubmit={login} data-testid="login-form">
          <input name="username" placeholder="user" autoComplete="username" required />
          <input name="password" type="password" placeholder="password" autoComplete="current-password" required />
          <button type="submit">Sign in</button>
        </form>
      )}
      {error && <span className="error" role="alert">{error}</span>}
    </header>
  );
}
