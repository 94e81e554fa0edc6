import { describe, expect, it } from 'vitest';
import { decodeView, emptyView, encodeView } from '../../src/map/urlState';
import { personaColour } from '../../src/map/roomLayer';

describe('the room in the URL', () => {
  it('round-trips ?room=<uuid> beside the rest of the view and ignores a malformed one', () => {
    const id = '0b7e2c1a-1111-4222-8333-444455556666';
    const v = { ...emptyView(), selected: 'Sirius', room: id };
    expect(encodeView(v)).toBe(`?sel=Sirius&room=${id}`);
    expect(decodeView(`?room=${id.toUpperCase()}&sel=Sirius`)).toEqual(v);
    expect(decodeView('?room=<script>').room).toBeNull();
    expect(decodeView(`?room=${id}x`).room).toBeNull();
  });

  it('every persona has its own colour', () => {
    const ps = ['admin', 'data_curator', 'ops_engineer', 'sim_owner', 'science_analyst', 'narrative_designer', 'general_user', 'observer_guest'];
    expect(new Set(ps.map(personaColour)).size).toBe(8);
  });
});
