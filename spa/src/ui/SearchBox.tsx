import { useMemo, useState } from 'react';
import type { Catalog } from '../map/catalog';

export function SearchBox({ catalog, onPick }: { catalog: Catalog | null; onPick: (i: number) => void }) {
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  const hits = useMemo(() => (catalog && q.trim() ? catalog.search(q, 12) : []), [catalog, q]);
  const choose = (i: number) => {
    onPick(i);
    setQ('');
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
            <li key={h.index} role="option" aria-selected={k === active} data-testid="suggestion" onMouseDown={(e) => (e.preventDefault(), choose(h.index))}>
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
