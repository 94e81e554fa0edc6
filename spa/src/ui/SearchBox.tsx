import { useEffect, useMemo, useState } from 'react';
import { Api } from '../api';
import type { Catalog, SearchHit } from '../map/catalog';

/**
 * The map's search box: `GET /api/search` (every name, designation and catalogue id, typos
 * forgiven) mapped onto the systems of the map; while it answers, or if it cannot, the map's
 * own index (main_ids and display names) suggests.
 */
export function SearchBox({ catalog, onPick }: { catalog: Catalog | null; onPick: (i: number) => void }) {
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  const [remote, setRemote] = useState<{ q: string; hits: SearchHit[] } | null>(null);
  const local = useMemo(() => (catalog && q.trim() ? catalog.search(q, 12) : []), [catalog, q]);
  useEffect(() => {
    const query = q.trim();
    if (!catalog || !query) return;
    const ctl = new AbortController();
    const t = setTimeout(() => {
      Api.search(query, 12, ctl.signal)
        .then((r) => {
          const hits: SearchHit[] = [];
          r.results.forEach((x, k) => {
            const i = catalog.indexOf(x.main_id);
            if (i !== undefined) hits.push({ index: i, name: catalog.displayNames[i], matched: x.matched, score: 1000 - k });
          });
          setRemote({ q: query, hits });
        })
        .catch(() => undefined);
    }, 120);
    return () => (clearTimeout(t), ctl.abort());
  }, [catalog, q]);
  const fromServer = !!remote && remote.q === q.trim() && remote.hits.length > 0;
  const hits = fromServer ? remote.hits : local;
  const choose = (i: number) => {
    onPick(i);
    setQ('');
    setRemote(null);
  };
  return (
    <div className="search">
      <input
        data-testid="search"
        placeholder="Search stars (any name or catalogue id)"
        value={q}
        onChange={(e) => (setQ(e.target.value), setActive(0))}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, hits.length - 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
          else if (e.key === 'Enter' && hits[active]) choose(hits[active].index);
          else if (e.key === 'Escape') setQ('');
        }}
        disabled={!catalog}
      />
      {hits.length > 0 && (
        <ul className="suggestions" role="listbox">
          {hits.map((h, k) => (
            <li key={h.index} role="option" aria-selected={k === active} data-testid="suggestion" data-source={fromServer ? 'search' : 'map'} onMouseDown={(e) => (e.preventDefault(), choose(h.index))}>
              <b>{h.name}</b>
              {h.matched !== h.name && <span className="alias"> {h.matched}</span>}
              <span className="dist">{catalog!.asset.distanceLy[h.index].toFixed(2)} ly</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
