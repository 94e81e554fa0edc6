//! Pipeline queue messages. A run starts with a [`KickMessage`] on the ingest queue:
//! `{"run_name": "…", "sources": [{"family": "SIMBAD", "uri": "file:///…"}], "seed": 42}`.
//! Every later message is a [`PhaseMessage`] `{"run_id": "…", "phase": "transform"}` on that
//! phase's queue. `exomaps_pipeline::chain` re-exports these and handles them.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Family {
    Simbad,
    Exoplanets,
    /// Hipparcos 2 (`hip2.dat`, fixed width).
    Hipparcos,
    /// Star and constellation names (d3-celestial `starnames.json`, `constellations.json`).
    Names,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Simbad => "SIMBAD",
            Family::Exoplanets => "EXOPLANETS",
            Family::Hipparcos => "HIPPARCOS",
            Family::Names => "NAMES",
        }
    }

    /// The family of its name ([`Family::as_str`]).
    pub fn parse(name: &str) -> Option<Family> {
        [Family::Simbad, Family::Exoplanets, Family::Hipparcos, Family::Names].into_iter().find(|f| f.as_str() == name)
    }

    /// The family a file belongs to by its name prefix (`SIMBAD*`, `EXOPLANETS*`,
    /// `HIPPARCOS*` or `hip2*`, `NAMES*`, `starnames*` or `constellations*`).
    pub fn from_file_name(name: &str) -> Option<Family> {
        let upper = name.to_ascii_uppercase();
        if upper.starts_with("SIMBAD") {
            Some(Family::Simbad)
        } else if upper.starts_with("EXOPLANETS") {
            Some(Family::Exoplanets)
        } else if upper.starts_with("HIPPARCOS") || upper.starts_with("HIP2") {
            Some(Family::Hipparcos)
        } else if upper.starts_with("NAMES") || upper.starts_with("STARNAMES") || upper.starts_with("CONSTELLATIONS") {
            Some(Family::Names)
        } else {
            None
        }
    }

    /// The file extensions a family's files have.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Family::Simbad | Family::Exoplanets => &[".csv", ".csv.gz"],
            Family::Hipparcos => &[".dat"],
            Family::Names => &[".json"],
        }
    }

    /// Whether `name` is a source file of some family (name and extension).
    pub fn source_file(name: &str) -> Option<Family> {
        let lower = name.to_ascii_lowercase();
        Family::from_file_name(name).filter(|f| f.extensions().iter().any(|e| lower.ends_with(e)))
    }
}

/// One source of a run: `{"family": "SIMBAD", "uri": "file:///…"}`. A message may also give a
/// bare URI string (`"s3://bucket/SIMBAD_03.csv"`, as the scheduled kick built by the template
/// does): its family is then taken from the file name. It is always written in the object form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SourceForm")]
pub struct SourceSpec {
    pub family: Family,
    pub uri: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SourceForm {
    Uri(String),
    Spec { family: Family, uri: String },
}

impl TryFrom<SourceForm> for SourceSpec {
    type Error = String;

    fn try_from(form: SourceForm) -> Result<Self, Self::Error> {
        match form {
            SourceForm::Spec { family, uri } => Ok(SourceSpec { family, uri }),
            SourceForm::Uri(uri) => {
                let probe = SourceSpec { family: Family::Simbad, uri };
                let family = Family::from_file_name(&probe.source_name()).ok_or_else(|| {
                    format!(
                        "source {:?}: the file name must start with SIMBAD or EXOPLANETS (or give its family)",
                        probe.uri
                    )
                })?;
                Ok(SourceSpec { family, ..probe })
            }
        }
    }
}

impl SourceSpec {
    pub fn file(family: Family, path: impl Into<PathBuf>) -> SourceSpec {
        let path: PathBuf = path.into();
        let uri = url::Url::from_file_path(std::path::absolute(&path).unwrap_or(path.clone()))
            .map(|u| u.to_string())
            .unwrap_or_else(|_| format!("file://{}", path.display()));
        SourceSpec { family, uri }
    }

    /// The file name, used as the source name in the manifest and quarantine.
    pub fn source_name(&self) -> String {
        let path = self.uri.split(['?', '#']).next().unwrap_or(&self.uri);
        path.rsplit('/').next().unwrap_or(path).to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Ingest,
    Canonicalise,
    Transform,
    Infer,
    Publish,
}

impl Phase {
    /// The phases in chain order.
    pub const ALL: [Phase; 5] = [Phase::Ingest, Phase::Canonicalise, Phase::Transform, Phase::Infer, Phase::Publish];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Ingest => "ingest",
            Phase::Canonicalise => "canonicalise",
            Phase::Transform => "transform",
            Phase::Infer => "infer",
            Phase::Publish => "publish",
        }
    }

    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == name)
    }

    pub fn next(self) -> Option<Phase> {
        let i = Phase::ALL.iter().position(|p| *p == self)?;
        Phase::ALL.get(i + 1).copied()
    }

    /// The queue (and function) name of the phase: `exomaps-pipeline-<phase>`.
    pub fn queue_name(self) -> String {
        format!("exomaps-pipeline-{}", self.as_str())
    }
}

/// Starts a run: the message on the ingest queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KickMessage {
    pub run_name: String,
    pub sources: Vec<SourceSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Set by `POST /api/runs` so the caller learns the id at once; generated otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<Uuid>,
    /// Split every CSV source into about this many line-aligned shards, each ingested by its
    /// own message (1–256); unset, a source is split only when it exceeds the deployment's
    /// shard size (`EXOMAPS_SHARD_BYTES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,
}

/// The most shards a kick may ask for per source.
pub const MAX_SHARDS: u32 = 256;

/// One shard of a sharded source, on the ingest queue:
/// `{"run_id": "…", "phase": "ingest", "shard": {"source": "SIMBAD_04.csv", "index": 2}}`.
/// The byte range and lines are in the run's recorded plan, not the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardMessage {
    pub run_id: Uuid,
    pub phase: Phase,
    pub shard: ShardRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardRef {
    /// The source's name (its file name), as in the manifest.
    pub source: String,
    pub index: u32,
}

/// Every later phase's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseMessage {
    pub run_id: Uuid,
    pub phase: Phase,
}

impl KickMessage {
    /// Structural checks beyond JSON shape: what makes a kick meaningless.
    pub fn validate(&self) -> Result<(), String> {
        if self.run_name.trim().is_empty() || self.run_name.chars().count() > 200 {
            return Err("run_name must be 1–200 characters".into());
        }
        if self.sources.is_empty() || self.sources.len() > 20 {
            return Err("sources must list 1–20 files".into());
        }
        if self.run_name.contains('\0') {
            return Err("run_name contains a NUL character".into());
        }
        if self.shards.is_some_and(|n| n == 0 || n > MAX_SHARDS) {
            return Err(format!("shards must be 1–{MAX_SHARDS}"));
        }
        for s in &self.sources {
            if s.uri.contains('\0') {
                return Err("a source uri contains a NUL character".into());
            }
            if !(s.uri.starts_with("file://") || s.uri.starts_with("s3://")) {
                return Err(format!("source uri must be file:// or s3://: {}", s.uri));
            }
        }
        Ok(())
    }

    /// Parses and validates a kick message body.
    pub fn parse(body: &str) -> Result<KickMessage, String> {
        let kick: KickMessage = serde_json::from_str(body).map_err(|e| format!("malformed kick message: {e}"))?;
        kick.validate()?;
        Ok(kick)
    }
}

/// A decoded message of a phase's queue.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Kick(KickMessage),
    Phase(PhaseMessage),
    /// One shard of a sharded source (ingest queue only).
    Shard(ShardMessage),
}

/// Decodes one message from `phase`'s queue (pure; `fuzz/` fuzzes it): a kick on the ingest
/// queue, a phase message naming this phase on the others; anything else is poison (the
/// reason).
pub fn decode(phase: Phase, body: &str) -> Result<Decoded, String> {
    if phase == Phase::Ingest {
        let is_shard = serde_json::from_str::<serde_json::Value>(body).is_ok_and(|v| v.get("shard").is_some());
        if !is_shard {
            return KickMessage::parse(body).map(Decoded::Kick);
        }
        let msg: ShardMessage = serde_json::from_str(body).map_err(|e| format!("malformed shard message: {e}"))?;
        if msg.phase != Phase::Ingest {
            return Err(format!("a {} shard message on the ingest queue", msg.phase.as_str()));
        }
        if msg.shard.source.is_empty() || msg.shard.source.contains('\0') || msg.shard.index >= MAX_SHARDS * 64 {
            return Err("a shard message names no valid source or index".into());
        }
        return Ok(Decoded::Shard(msg));
    }
    let msg: PhaseMessage = serde_json::from_str(body).map_err(|e| format!("malformed phase message: {e}"))?;
    if msg.phase != phase {
        return Err(format!("a {} message on the {} queue", msg.phase.as_str(), phase.as_str()));
    }
    Ok(Decoded::Phase(msg))
}

/// The run a phase message (kick or later) belongs to, read leniently: a message can be poison
/// for its phase and still name its run.
pub fn run_id_of(body: &str) -> Option<Uuid> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    Uuid::parse_str(v.get("run_id")?.as_str()?).ok()
}
