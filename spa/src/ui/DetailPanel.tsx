import { absMagOf, FLAG_CURATED, simbadUrl, type SystemDetail } from '@exomaps/sdk';
import type { Catalog } from '../map/catalog';
import { CLASS_COLOURS } from '../map/classes';
import { LY_PER_PC } from '../map/units';

interface Props {
  catalog: Catalog;
  index: number;
  detail: { data?: SystemDetail; error?: string } | null;
  onClose: () => void;
}

const fmt = (v: number | null | undefined, digits = 2) => (v === null || v === undefined ? '—' : v.toFixed(digits));

/** The selected system: what the map asset knows at once, the rest from GET /api/system/{id}. */
export function DetailPanel({ catalog, index, detail, onClose }: Props) {
  const a = catalog.asset;
  const mainId = a.names[index];
  const d = detail?.data;
  const cls = catalog.classKey(index);
  const ly = a.distanceLy[index];
  const hz = d?.habitable_zone;
  const observed = d?.planets.observed ?? [];
  const inferred = d?.planets.inferred ?? [];
  const mv = absMagOf(a.absMag[index]);
  const hp = d?.system.hp_mag;
  return (
    <article className="detail" data-testid="detail">
      <header>
        <h2 data-testid="detail-name">{catalog.displayNames[index]}</h2>
        <button className="close" onClick={onClose} aria-label="close">×</button>
      </header>
      {mainId !== catalog.displayNames[index] && <p className="main-id">{mainId}</p>}
      <dl>
        <dt>Distance</dt>
        <dd data-testid="detail-distance">
          {ly.toFixed(2)} ly <span className="muted">({(ly / LY_PER_PC).toFixed(3)} pc)</span>
        </dd>
        <dt>Spectral type</dt>
        <dd>
          <span className="badge" style={{ background: CLASS_COLOURS[cls] }}>{cls}</span> {d?.system.spectral_type ?? ''}
        </dd>
        <dt>Brightness</dt>
        <dd data-testid="detail-brightness">
          {mv === null ? 'unknown' : <>M<sub>V</sub> {mv.toFixed(1)}</>}
          {hp != null && <span className="muted"> (Hipparcos Hp {hp.toFixed(2)})</span>}
        </dd>
        <dt>Multiplicity</dt>
        <dd>{a.multiplicity[index] === 1 ? 'single' : a.multiplicity[index] === 2 ? 'binary' : `${a.multiplicity[index]} stars`}</dd>
        <dt>Planets</dt>
        <dd>
          {a.observedPlanets[index]} observed · {a.inferredPlanets[index]} inferred
        </dd>
        {hz && (
          <>
            <dt>Habitable zone</dt>
            <dd data-testid="detail-hz">
              {fmt(hz.conservative_inner_au)}–{fmt(hz.conservative_outer_au)} AU{' '}
              <span className="muted">(optimistic {fmt(hz.optimistic_inner_au)}–{fmt(hz.optimistic_outer_au)})</span>
            </dd>
          </>
        )}
        {(a.flags[index] & FLAG_CURATED) !== 0 && (
          <>
            <dt>Source</dt>
            <dd>curated catalogue</dd>
          </>
        )}
      </dl>
      {detail?.error && <p className="muted" data-testid="detail-error">{detail.error}</p>}
      {!d && !detail?.error && <p className="muted">loading details…</p>}
      {d && (
        <>
          {d.system.display_name && d.system.display_name !== catalog.displayNames[index] && (
            <p data-testid="detail-display-name">Name: {d.system.display_name}</p>
          )}
          {d.aliases.length > 0 && (
            <p className="aliases" data-testid="detail-aliases">
              Names and designations: {d.aliases.slice(0, 16).join(' · ')}
              {d.aliases.length > 16 && (
                <details data-testid="detail-aliases-more">
                  <summary className="muted">+{d.aliases.length - 16} more</summary>
                  {d.aliases.slice(16).join(' · ')}
                </details>
              )}
            </p>
          )}
          {d.distances && d.distances.length > 0 && (
            <div data-testid="detail-distances">
              <h3>Distances</h3>
              <ul>
                {d.distances.map((m, k) => (
                  <li key={k} data-testid="distance-measurement">
                    {(m.distance_pc * LY_PER_PC).toFixed(2)} ly
                    {m.uncertainty_pc != null && <> ± {(m.uncertainty_pc * LY_PER_PC).toFixed(2)}</>} · <span data-testid="distance-source">{m.provenance}</span>
                    {k === 0 && <span className="muted"> (adopted)</span>}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <h3>Planets</h3>
          <table className="planets" data-testid="planets">
            <thead>
              <tr>
                <th />
                <th>name</th>
                <th>a (AU)</th>
                <th>period (d)</th>
                <th>mass (M⊕)</th>
                <th>radius (R⊕)</th>
                <th>conf.</th>
              </tr>
            </thead>
            <tbody>
              {observed.map((p, k) => (
                <tr key={`o${k}`} data-testid="planet-observed">
                  <td><span className="badge obs">OBS</span>{p.in_hz && <span className="badge hz">HZ</span>}</td>
                  <td>{p.planet_name}</td>
                  <td>{fmt(p.semi_major_axis_au, 3)}</td>
                  <td>{fmt(p.orbital_period_days, 2)}</td>
                  <td>{fmt(p.mass_earth, 2)}</td>
                  <td>{fmt(p.radius_earth, 2)}</td>
                  <td>observed</td>
                </tr>
              ))}
              {inferred.map((p, k) => (
                <tr key={`i${k}`} data-testid="planet-inferred">
                  <td><span className="badge inf">INF</span>{p.in_hz && <span className="badge hz">HZ</span>}</td>
                  <td>{p.planet_name}</td>
                  <td>{fmt(p.semi_major_axis_au, 3)}</td>
                  <td>{fmt(p.orbital_period_days, 2)}</td>
                  <td>{fmt(p.mass_earth, 2)}</td>
                  <td>{fmt(p.radius_earth, 2)}</td>
                  <td title={p.method ? `method: ${p.method}` : undefined}>{String(p.confidence ?? '—')}</td>
                </tr>
              ))}
              {observed.length + inferred.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">none known</td>
                </tr>
              )}
            </tbody>
          </table>
          {d.belts.length > 0 && <p>Belts: {d.belts.map((b) => `${b.belt_type} ${fmt(b.inner_radius_au)}–${fmt(b.outer_radius_au)} AU`).join(' · ')}</p>}
          {d.frost_line_au != null && <p className="muted">Frost line {fmt(d.frost_line_au)} AU</p>}
          {d.lineage.length > 0 && (
            <div className="lineage" data-testid="lineage">
              Lineage:
              <ul>
                {d.lineage.map((l, k) => (
                  <li key={k}>
                    {l.provenance ?? '—'}
                    {l.source_name && <> · {l.source_name} row {l.row_number ?? '—'}</>}
                    {l.matched_by && <span className="muted"> · matched by {l.matched_by}</span>}
                    {l.file_checksum_sha256 && <span title={l.file_checksum_sha256}> · sha256 {l.file_checksum_sha256.slice(0, 12)}…</span>}
                    {l.run_id && <span> · run {l.run_id.slice(0, 8)}</span>}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </>
      )}
      <p>
        <a data-testid="simbad-link" href={d?.simbad_url ?? simbadUrl(mainId)} target="_blank" rel="noreferrer noopener">
          {mainId} in SIMBAD ↗
        </a>
      </p>
    </article>
  );
}
