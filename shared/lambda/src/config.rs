//! The process wiring of a function, read from the environment once at start-up: where pushes,
//! published files and next messages go. The route configuration is
//! `exomaps_api::config::Config`; the database, pool and scope of the pipeline functions are
//! `exomaps_pipeline::config::PipelineConfig`. Nothing else in this crate reads the environment.

use exomaps_pipeline::chain::Phase;
use exomaps_pipeline::queue::FifoQueue;
use std::collections::HashMap;

/// The wiring settings (all optional: an unset value leaves its port out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wiring {
    /// `EXOMAPS_WS_ENDPOINT`: the WebSocket API's management endpoint (`@connections` posts).
    pub ws_endpoint: Option<String>,
    /// `EXOMAPS_SPA_BUCKET`: the bucket publish writes the map assets to.
    pub spa_bucket: Option<String>,
    /// `EXOMAPS_QUEUE_<PHASE>_URL`: each phase's queue (kick and next messages).
    pub queue_urls: HashMap<Phase, String>,
    /// `EXOMAPS_QUEUE_SIM_TICK_URL`: the simulation tick FIFO queue.
    pub sim_tick_url: Option<String>,
    /// `EXOMAPS_ADMIN_SECRET_ID`: the first administrator's credentials (the migrate function).
    pub admin_secret_id: Option<String>,
}

/// The environment variable holding `phase`'s queue URL.
pub fn queue_url_env(phase: Phase) -> String {
    format!("EXOMAPS_QUEUE_{}_URL", phase.as_str().to_uppercase())
}

impl Wiring {
    pub fn from_env() -> Wiring {
        Wiring::from_lookup(|k| std::env::var(k).ok())
    }

    /// Same as [`Wiring::from_env`], over any lookup (tests pass a map). An empty or blank value
    /// counts as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Wiring {
        let text = |key: &str| get(key).filter(|v| !v.trim().is_empty());
        Wiring {
            ws_endpoint: text("EXOMAPS_WS_ENDPOINT"),
            spa_bucket: text("EXOMAPS_SPA_BUCKET"),
            queue_urls: Phase::ALL.into_iter().filter_map(|p| text(&queue_url_env(p)).map(|url| (p, url))).collect(),
            sim_tick_url: text(FifoQueue::SimTick.url_env()),
            admin_secret_id: text("EXOMAPS_ADMIN_SECRET_ID"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wiring(pairs: &[(&str, &str)]) -> Wiring {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Wiring::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn nothing_set_is_nothing_wired() {
        assert_eq!(wiring(&[]), Wiring::default());
    }

    #[test]
    fn every_setting_is_read_and_blank_values_are_unset() {
        let w = wiring(&[
            ("EXOMAPS_WS_ENDPOINT", "https://ws.example/prod"),
            ("EXOMAPS_SPA_BUCKET", "spa"),
            ("EXOMAPS_QUEUE_INGEST_URL", "https://sqs/ingest"),
            ("EXOMAPS_QUEUE_PUBLISH_URL", "https://sqs/publish"),
            ("EXOMAPS_QUEUE_TRANSFORM_URL", "  "),
            ("EXOMAPS_QUEUE_SIM_TICK_URL", "https://sqs/tick.fifo"),
            ("EXOMAPS_ADMIN_SECRET_ID", ""),
        ]);
        assert_eq!(w.ws_endpoint.as_deref(), Some("https://ws.example/prod"));
        assert_eq!(w.spa_bucket.as_deref(), Some("spa"));
        assert_eq!(w.queue_urls.len(), 2, "{:?}", w.queue_urls);
        assert_eq!(w.queue_urls[&Phase::Ingest], "https://sqs/ingest");
        assert_eq!(w.queue_urls[&Phase::Publish], "https://sqs/publish");
        assert_eq!(w.sim_tick_url.as_deref(), Some("https://sqs/tick.fifo"));
        assert_eq!(w.admin_secret_id, None);
    }

    #[test]
    fn queue_variables_are_named_after_every_phase() {
        let names: Vec<String> = Phase::ALL.into_iter().map(queue_url_env).collect();
        assert!(names.contains(&"EXOMAPS_QUEUE_CANONICALISE_URL".to_string()), "{names:?}");
        assert_eq!(names.len(), Phase::ALL.len());
    }
}
