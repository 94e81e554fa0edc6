// The room panel: open a shareable room (`/?room=<id>`), who is here (name in persona colour and
// the star each one points at), the annotations (pin one to the selected star; edit / delete your
// own, admin any), and for admin / ops_engineer a broadcast to every open map. Every user-written
// text is rendered as React text (escaped), never as HTML.
import { useState } from 'react';
import { ApiFailure, type Annotation, type PersonaView, type RoomSession, type RoomView } from '@exomaps/sdk';
import { Rooms } from '../api';
import type { Catalog } from '../map/catalog';
import { personaColour } from '../map/roomLayer';

interface Props {
  session: PersonaView | null;
  catalog: Catalog | null;
  roomId: string | null;
  room: RoomSession | null;
  view: RoomView | null;
  selected: string | null;
  /** The view's centre (the orbit target), ICRS light-years: where a note on a point goes. */
  centre: [number, number, number] | null;
  onRoom: (id: string | null) => void;
  onFly: (mainId: string) => void;
}

const msg = (e: unknown) => (e instanceof ApiFailure ? `${e.status}: ${e.message}` : String((e as Error).message ?? e));

export function RoomPanel({ session, catalog, roomId, room, view, selected, centre, onRoom, onFly }: Props) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const persona = session?.current_persona_key;
  const me = session?.user ?? null;
  const canWrite = !!me && persona !== 'observer_guest';
  const canBroadcast = !!me && (persona === 'admin' || persona === 'ops_engineer');
  const name = (id: string | null | undefined) => (id && catalog ? (catalog.displayNames[catalog.indexOf(id) ?? -1] ?? id) : (id ?? ''));

  const create = async () => {
    setBusy(true);
    try {
      const r = await Rooms.create(`${me}'s room`);
      setError(null);
      onRoom(r.id);
    } catch (e) {
      setError(msg(e));
    } finally {
      setBusy(false);
    }
  };

  if (!roomId) {
    return (
      <section className="panel room-panel" data-testid="room-panel">
        <h3>Room</h3>
        {canWrite ? (
          <button data-testid="room-create" disabled={busy} onClick={create}>Open a shared room</button>
        ) : (
          <p className="hint">{me ? 'Observers can join a room from its link.' : 'Sign in to open a shared room.'}</p>
        )}
        {error && <p className="error" data-testid="room-error">{error}</p>}
        {canBroadcast && <BroadcastForm />}
      </section>
    );
  }

  const link = `${location.origin}/?room=${roomId}`;
  return (
    <section className="panel room-panel" data-testid="room-panel">
      <h3>Room {view?.joined ? '' : '(joining…)'}</h3>
      <input readOnly value={link} data-testid="room-link" onFocus={(e) => e.currentTarget.select()} aria-label="room link" />
      <div>
        <button onClick={() => void navigator.clipboard?.writeText(link)}>Copy link</button>{' '}
        <button data-testid="room-leave" onClick={() => onRoom(null)}>Leave</button>
      </div>
      <h4>Here</h4>
      <ul data-testid="members">
        {(view?.members ?? []).map((m) => {
          const c = view?.cursors.find((x) => x.user === m.user);
          const on = c?.target && 'system_id' in c.target ? name(c.target.system_id) : null;
          return (
            <li key={m.user} className="member" data-testid="member" data-user={m.user} style={{ ['--c' as string]: personaColour(m.persona) }}>
              <b>{m.user}</b> <span className="note-meta">{m.persona}</span>
              {m.user === me ? <span className="note-meta"> (you)</span> : on ? <span data-testid="member-on"> on {on}</span> : null}
              {c?.selection && m.user !== me ? <span className="note-meta"> · selected {name(c.selection)}</span> : null}
            </li>
          );
        })}
      </ul>
      <h4>Notes</h4>
      {room?.error && <p className="error">{room.error}</p>}
      <ul data-testid="notes">
        {(view?.annotations ?? []).map((a) => (
          <NoteItem key={a.id} a={a} mine={a.author === me} admin={persona === 'admin'} room={room} roomId={roomId} where={a.system_id ? name(a.system_id) : a.point ? `(${a.point.x_ly.toFixed(1)}, ${a.point.y_ly.toFixed(1)}, ${a.point.z_ly.toFixed(1)}) ly` : ''} onFly={onFly} />
        ))}
      </ul>
      {canWrite && <NoteForm roomId={roomId} room={room} selected={selected} selectedName={name(selected)} centre={centre} />}
      {canBroadcast && <BroadcastForm />}
    </section>
  );
}

function NoteItem({ a, mine, admin, room, roomId, where, onFly }: { a: Annotation; mine: boolean; admin: boolean; room: RoomSession | null; roomId: string; where: string; onFly: (id: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(a.text);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    try {
      room?.upsert(await Rooms.edit(roomId, a.id, { text }));
      setEditing(false);
      setError(null);
    } catch (e) {
      setError(msg(e));
    }
  };
  const remove = async () => {
    try {
      await Rooms.remove(roomId, a.id);
      room?.forget(a.id);
    } catch (e) {
      setError(msg(e));
    }
  };
  return (
    <li className="note" data-testid="note" data-id={a.id} style={{ ['--c' as string]: personaColour(a.author_persona) }}>
      {editing ? (
        <>
          <textarea data-testid="note-edit-text" value={text} maxLength={500} onChange={(e) => setText(e.target.value)} />
          <button data-testid="note-save" onClick={save}>Save</button> <button onClick={() => setEditing(false)}>Cancel</button>
        </>
      ) : (
        <div className="note-text" data-testid="note-text">{a.text}</div>
      )}
      {a.link && /^https?:\/\//i.test(a.link) && (
        <a href={a.link} target="_blank" rel="noopener noreferrer nofollow" data-testid="note-link">{a.link}</a>
      )}
      <div className="note-meta">
        {a.system_id ? (
          <a href="#" onClick={(e) => (e.preventDefault(), onFly(a.system_id!))} data-testid="note-where">{where}</a>
        ) : (
          where
        )}{' '}
        · <span data-testid="note-author">{a.author}</span> · {new Date(a.updated_at).toLocaleString()}
        {(mine || admin) && !editing && (
          <>
            {' '}<button data-testid="note-edit" onClick={() => (setText(a.text), setEditing(true))}>edit</button>{' '}
            <button data-testid="note-delete" onClick={remove}>delete</button>
          </>
        )}
      </div>
      {error && <p className="error" data-testid="note-error">{error}</p>}
    </li>
  );
}

function NoteForm({ roomId, room, selected, selectedName, centre }: { roomId: string; room: RoomSession | null; selected: string | null; selectedName: string; centre: [number, number, number] | null }) {
  const [text, setText] = useState('');
  const [link, setLink] = useState('');
  const [error, setError] = useState<string | null>(null);
  const pin = async (at: 'star' | 'point') => {
    const where = at === 'star' ? (selected ? { system_id: selected } : null) : centre ? { point: { x_ly: centre[0], y_ly: centre[1], z_ly: centre[2] } } : null;
    if (!where) return;
    try {
      const a = await Rooms.annotate(roomId, { ...where, text, ...(link.trim() ? { link: link.trim() } : {}) });
      room?.upsert(a);
      setText('');
      setLink('');
      setError(null);
    } catch (err) {
      setError(msg(err));
    }
  };
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    void pin('star');
  };
  return (
    <form data-testid="note-form" onSubmit={submit}>
      <div className="note-meta">{selected ? <>Pin a note to <b data-testid="note-target">{selectedName}</b></> : 'Select a star to pin a note to it.'}</div>
      <textarea data-testid="note-input" value={text} maxLength={500} placeholder="note (≤ 500 characters)" onChange={(e) => setText(e.target.value)} />
      <input data-testid="note-link-input" value={link} placeholder="link (optional, http…)" onChange={(e) => setLink(e.target.value)} />
      <button type="submit" data-testid="note-submit" disabled={!selected || !text.trim()}>Pin note</button>{' '}
      <button type="button" data-testid="note-submit-point" disabled={!centre || !text.trim()} onClick={() => void pin('point')} title="at the point the view is centred on">
        Pin at view centre
      </button>
      {error && <p className="error" data-testid="note-form-error">{error}</p>}
    </form>
  );
}

function BroadcastForm() {
  const [text, setText] = useState('');
  const [level, setLevel] = useState<'info' | 'warning'>('info');
  const [note, setNote] = useState<string | null>(null);
  const send = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      const r = await Rooms.broadcast(text, level);
      setNote(`sent to ${r.delivered} open map(s)`);
      setText('');
    } catch (err) {
      setNote(msg(err));
    }
  };
  return (
    <form data-testid="broadcast-form" onSubmit={send}>
      <h4>Broadcast to every open map</h4>
      <input data-testid="broadcast-input" value={text} maxLength={500} onChange={(e) => setText(e.target.value)} placeholder="message" />
      <select value={level} onChange={(e) => setLevel(e.target.value as 'info' | 'warning')}>
        <option value="info">info</option>
        <option value="warning">warning</option>
      </select>
      <button type="submit" data-testid="broadcast-send" disabled={!text.trim()}>Send</button>
      {note && <p className="note-meta" data-testid="broadcast-note">{note}</p>}
    </form>
  );
}
