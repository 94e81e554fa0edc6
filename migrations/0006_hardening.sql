-- Issue 9: who asked for a run, so the per-user limit on queued and running runs can count them.
ALTER TABLE stg_data.ingest_runs ADD COLUMN requested_by UUID;
CREATE INDEX ingest_runs_active ON stg_data.ingest_runs (requested_by) WHERE status IN ('queued', 'running');
