import { CLASS_COLOURS, CLASS_KEYS } from '../map/classes';
import { DEFAULT_MAX_LY, type Filters, type PlanetFilter } from '../map/filters';

interface Props {
  filters: Filters;
  visible: number;
  total: number;
  onChange: (f: Filters) => void;
}

export function FiltersPanel({ filters, visible, total, onChange }: Props) {
  const toggle = (c: string) => {
    const classes = new Set(filters.classes);
    if (classes.has(c)) classes.delete(c);
    else classes.add(c);
    onChange({ ...filters, classes });
  };
  return (
    <fieldset className="filters">
      <legend>Filters</legend>
      <div className="classes">
        {CLASS_KEYS.map((c) => (
          <label key={c} className="class-toggle" style={{ borderColor: CLASS_COLOURS[c] }}>
            <input type="checkbox" data-testid={`class-${c}`} checked={filters.classes.has(c)} onChange={() => toggle(c)} />
            <span style={{ color: CLASS_COLOURS[c] }}>{c === '?' ? 'unknown' : c}</span>
          </label>
        ))}
      </div>
      <div className="range">
        <label>
          from <input data-testid="min-ly" type="number" min={0} max={DEFAULT_MAX_LY} step={1} value={filters.minLy} onChange={(e) => onChange({ ...filters, minLy: Math.max(0, Number(e.target.value) || 0) })} />
        </label>
        <label>
          to <input data-testid="max-ly" type="number" min={0} max={DEFAULT_MAX_LY} step={1} value={Math.min(filters.maxLy, DEFAULT_MAX_LY)} onChange={(e) => onChange({ ...filters, maxLy: Number(e.target.value) || DEFAULT_MAX_LY })} /> ly
        </label>
      </div>
      <label>
        planets{' '}
        <select data-testid="planet-filter" value={filters.planets} onChange={(e) => onChange({ ...filters, planets: e.target.value as PlanetFilter })}>
          <option value="any">any system</option>
          <option value="any-planets">with planets (observed or inferred)</option>
          <option value="observed">with observed planets</option>
          <option value="inferred">with inferred planets</option>
        </select>
      </label>
      <p className="count" data-testid="visible-count">
        {visible.toLocaleString()} of {total.toLocaleString()} shown
      </p>
    </fieldset>
  );
}
