import type { Catalog } from '../map/catalog';
import { separation } from '../map/units';

interface Props {
  catalog: Catalog;
  selected: number | null;
  ruler: [string, string] | null;
  onChange: (r: [string, string] | null) => void;
}

/** A distance ruler between two stars: "from" is set first, then "to". */
export function RulerPanel({ catalog, selected, ruler, onChange }: Props) {
  const sel = selected === null ? null : catalog.asset.names[selected];
  const ends = ruler?.map((m) => catalog.indexOf(m)) ?? [];
  const d = ends.length === 2 && ends[0] !== undefined && ends[1] !== undefined ? separation(catalog.position(ends[0]), catalog.position(ends[1])) : null;
  const name = (m: string) => {
    const i = catalog.indexOf(m);
    return i === undefined ? m : catalog.displayNames[i];
  };
  return (
    <fieldset className="ruler">
      <legend>Ruler</legend>
      {sel && (
        <div className="buttons">
          <button data-testid="ruler-from" onClick={() => onChange([sel, ruler?.[1] ?? sel])}>From here</button>
          <button data-testid="ruler-to" onClick={() => onChange([ruler?.[0] ?? sel, sel])}>To here</button>
          {ruler && <button onClick={() => onChange(null)}>Clear</button>}
        </div>
      )}
      {ruler && (
        <p data-testid="ruler-result">
          {name(ruler[0])} → {name(ruler[1])}:{' '}
          {d && (
            <>
              <b data-testid="ruler-ly">{d.ly.toFixed(2)} ly</b> · <span data-testid="ruler-pc">{d.pc.toFixed(2)} pc</span>
            </>
          )}
        </p>
      )}
    </fieldset>
  );
}
