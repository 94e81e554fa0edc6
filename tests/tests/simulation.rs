//! Simulations as a service (issue 10), against a real PostgreSQL and the world built from
//! `sample/sources`: the API per persona and its state machine (400 / 403 / 404 / 409),
//! batching invariance with a PostgreSQL round trip between batches, replay from events,
//! fork, the observer view, the tick-message handler under duplicated / reordered / stale
//! messages, and the `sim:<id>` WebSocket replay with `after_tick` (exactly once, in order).
//!
//! The assertions hold for any deterministic model behind `exomaps_sim`'s interface: they
//! compare hashes and event lists between ways of computing the same thing, never numbers.

use exomaps_domain::coords::Scope;
use exomaps_domain::persona::Persona;
use exomaps_pipeline::chain::PipelineContext;
use exomaps_pipeline::notify::Notifier;
use exomaps_pipeline::queue::{FifoMessage, FifoQueue, LocalQueues, Queues, SendFuture};
use exomaps_pipeline::sim::{self as service, CreateSim, TickMessage};
use exomaps_pipeline::{Family, SourceSpec, run_pipeline};
use exomaps_store::Store;
use exomaps_store::sim::RunState;
use exomaps_tests::{HttpBroadcaster, fresh_store, req, request, sample_sources, test_state, token_for};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

async fn sample_world() -> Store {
    let (store, _) = fresh_store().await;
    let specs = vec![
        SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv")),
        SourceSpec::file(Family::Exoplanets, sample_sources().join("EXOPLANETS_sample.csv")),
    ];
    let run = run_pipeline(&store, "sim", &specs, Scope::default()).await.unwrap();
    assert_ne!(run.status, "fail", "{:?}", run.failure_reason);
    store
}

fn ctx(store: &Store, notifier: Option<Notifier>) -> PipelineContext {
    PipelineContext {
        store: store.clone(),
        scope: Scope::default(),
        notifier: notifier.unwrap_or_else(|| Notifier::silent(store.clone())),
        objects: None,
    }
}

const SAMPLE_GOLDEN: &str = "b73ae0da4bc618ed0a0b9b79a2a33c90bc03d672f1ab8ac39c969acefb91540a";

fn seeded(seed: i64) -> CreateSim {
    CreateSim { seed: Some(seed), ..Default::default() }
}

/// Queues that record FIFO messages instead of delivering them (the test plays SQS).
#[derive(Default)]
struct Recorder(Mutex<Vec<FifoMessage>>);

impl Queues for Recorder {
    fn send(&self, _: exomaps_pipeline::chain::Phase, _: String) -> SendFuture<'_> {
        Box::pin(async { Err("no phase queues here".to_string()) })
    }
    fn send_fifo(&self, queue: FifoQueue, message: FifoMessage) -> SendFuture<'_> {
        assert_eq!(queue, FifoQueue::SimTick);
        self.0.lock().unwrap().push(message);
        Box::pin(async { Ok(()) })
    }
}

async fn all_events(store: &Store, id: Uuid) -> Vec<(i64, i32, String, Value)> {
    store
        .sim_events_between(id, -1, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.tick, e.seq, e.kind, e.payload.0))
        .collect()
}

async fn hash_at(store: &Store, id: Uuid, tick: i64) -> String {
    let sim = service::get(store, id).await.unwrap();
    service::state_at(store, &sim, tick).await.unwrap().hash()
}

#[tokio::test]
async fn api_personas_bad_input_and_the_state_machine() {
    let store = sample_world().await;
    let (state, keys) = test_state(store.clone(), exomaps_api::config::Config::default());
    let local = LocalQueues::spawn(ctx(&store, None), 5, Duration::from_millis(50));
    let state = state.with_queues(Arc::new(local));
    let router = exomaps_tests::gateway_for(state.clone());
    let admin = format!("Bearer {}", token_for(&state, Persona::Admin, &[Persona::Admin]).await);
    let owner = format!("Bearer {}", token_for(&state, Persona::SimOwner, &[Persona::SimOwner]).await);
    let general = format!("Bearer {}", token_for(&state, Persona::GeneralUser, &[Persona::GeneralUser]).await);
    let call = |method: &'static str, uri: String, body: Option<Value>, auth: String| {
        let router = router.clone();
        async move {
            let headers: Vec<(&str, &str)> = if auth.is_empty() { vec![] } else { vec![("authorization", &auth)] };
            request(&router, req(method, &uri, body, &headers)).await
        }
    };

    // Mutations: admin and sim_owner only.
    let (s, _, b) = call("POST", "/api/simulation".into(), Some(json!({})), general.clone()).await;
    assert_eq!((s.as_u16(), b["error"].as_str()), (403, Some("forbidden")), "{b}");
    let (s, _, _) = request(&router, req("POST", "/api/simulation", Some(json!({})), &[])).await;
    assert_eq!(s, 401, "anonymous callers are asked to sign in");

    // 400s: nothing is created.
    for bad in [
        json!({"scenario": "no-such-scenario"}),
        json!({"start_system": "No Such Star 12345"}),
        json!({"params": {"no_such_field": 1}}),
        json!({"params": {"ship_speed_milli_c": 0}}),
        json!({"batch_ticks": 0}),
        json!({"seed": -1}),
        json!({"unknown": true}),
    ] {
        let (s, _, b) = call("POST", "/api/simulation".into(), Some(bad.clone()), admin.clone()).await;
        assert_eq!((s.as_u16(), b["error"].as_str()), (400, Some("bad_request")), "{bad}: {b}");
    }
    let (_, _, list) = call("GET", "/api/simulation".into(), None, general.clone()).await;
    assert_eq!(list["total_count"], 0, "bad requests created nothing: {list}");

    let (s, _, sim) = call(
        "POST",
        "/api/simulation".into(),
        Some(json!({"name": "A", "seed": 7, "start_system": "Sol"})),
        owner.clone(),
    )
    .await;
    assert_eq!(s, 201, "{sim}");
    assert_eq!((sim["state"].as_str(), sim["current_tick"].as_i64()), (Some("idle"), Some(0)));
    let id = sim["sim_id"].as_str().unwrap().to_string();
    assert_eq!(sim["channel"], format!("sim:{id}"));

    // Reads for every persona, including anonymous observers.
    for auth in [general.clone(), owner.clone(), String::new()] {
        let (s, _, b) = call("GET", format!("/api/simulation/{id}"), None, auth.clone()).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["simulation"]["sim_id"], id.as_str());
        let (s, _, b) = call("GET", format!("/api/simulation/{id}/events?limit=5"), None, auth).await;
        assert_eq!(s, 200, "{b}");
        assert!(!b["events"].as_array().unwrap().is_empty(), "tick 0 has the start event: {b}");
    }
    let (s, _, list) = call("GET", "/api/simulation".into(), None, general.clone()).await;
    assert_eq!((s.as_u16(), list["total_count"].as_i64()), (200, Some(1)), "{list}");

    // 400 / 404 on the id and the parameters.
    let (s, _, _) = call("GET", "/api/simulation/not-a-uuid".into(), None, general.clone()).await;
    assert_eq!(s, 400);
    let (s, _, _) = call("GET", format!("/api/simulation/{}", Uuid::new_v4()), None, general.clone()).await;
    assert_eq!(s, 404);
    let (s, _, _) = call("POST", format!("/api/simulation/{}/step", Uuid::new_v4()), None, admin.clone()).await;
    assert_eq!(s, 404);
    for n in [0, 1001, -3] {
        let (s, _, b) = call("POST", format!("/api/simulation/{id}/step"), Some(json!({"n": n})), admin.clone()).await;
        assert_eq!(s, 400, "n = {n}: {b}");
    }
    for q in ["limit=0", "limit=501", "after_tick=x", "after_tick=-2"] {
        let (s, _, b) = call("GET", format!("/api/simulation/{id}/events?{q}"), None, general.clone()).await;
        assert_eq!(s, 400, "{q}: {b}");
    }
    let (s, _, _) = call("GET", format!("/api/simulation/{id}/snapshot?tick=99"), None, general.clone()).await;
    assert_eq!(s, 400, "a tick in the future");
    let (s, _, b) = call("POST", format!("/api/simulation/{id}/step"), Some(json!({"n": 3})), general.clone()).await;
    assert_eq!(s, 403, "{b}");

    // idle: step stays idle.
    let (s, _, b) = call("POST", format!("/api/simulation/{id}/step"), Some(json!({"n": 12})), admin.clone()).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["ticks_executed"].as_u64(), b["current_tick"].as_i64(), b["state"].as_str()),
        (Some(12), Some(12), Some("idle"))
    );
    // Events paginate by (tick, seq), ascending, without gaps.
    let mut cursor = String::new();
    let mut paged = Vec::new();
    loop {
        let (s, _, b) =
            call("GET", format!("/api/simulation/{id}/events?limit=3{cursor}"), None, general.clone()).await;
        assert_eq!(s, 200, "{b}");
        for e in b["events"].as_array().unwrap() {
            paged.push((e["tick"].as_i64().unwrap(), e["seq"].as_i64().unwrap()));
        }
        match (b["next_after_tick"].as_i64(), b["next_after_seq"].as_i64()) {
            (Some(t), Some(q)) => cursor = format!("&after_tick={t}&after_seq={q}"),
            _ => break,
        }
    }
    let stored: Vec<(i64, i64)> =
        all_events(&store, id.parse().unwrap()).await.iter().map(|e| (e.0, e.1 as i64)).collect();
    assert_eq!(paged, stored, "pages of 3 give every event once, in order");

    // idle → paused; pause again is a no-op; step while paused stays paused.
    let (s, _, b) = call("POST", format!("/api/simulation/{id}/pause"), None, owner.clone()).await;
    assert_eq!((s.as_u16(), b["state"].as_str()), (200, Some("paused")), "{b}");
    let (s, _, b) = call("POST", format!("/api/simulation/{id}/pause"), None, owner.clone()).await;
    assert_eq!((s.as_u16(), b["state"].as_str()), (200, Some("paused")), "{b}");
    let (s, _, b) = call("POST", format!("/api/simulation/{id}/step"), Some(json!({"count": 2})), owner.clone()).await;
    assert_eq!((s.as_u16(), b["state"].as_str(), b["current_tick"].as_i64()), (200, Some("paused"), Some(14)), "{b}");

    // paused → running (the tick chain); step while running is 409; resume again a no-op.
    let (s, _, b) = call("POST", format!("/api/simulation/{id}/resume"), None, owner.clone()).await;
    assert_eq!((s.as_u16(), b["state"].as_str()), (200, Some("running")), "{b}");
    let (s, _, b) = call("POST", format!("/api/simulation/{id}/step"), Some(json!({"n": 1})), owner.clone()).await;
    assert_eq!((s.as_u16(), b["error"].as_str()), (409, Some("conflict")), "{b}");
    let (s, _, b) = call("POST", format!("/api/simulation/{id}/resume"), None, owner.clone()).await;
    assert_eq!((s.as_u16(), b["state"].as_str()), (200, Some("running")), "{b}");
    // The chain advances it.
    let mut advanced = 0;
    for _ in 0..100 {
        let (_, _, b) = call("GET", format!("/api/simulation/{id}"), None, general.clone()).await;
        advanced = b["simulation"]["current_tick"].as_i64().unwrap();
        if advanced > 14 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(advanced > 14, "the queue advanced the running simulation");
    let (s, _, b) = call("POST", format!("/api/simulation/{id}/pause"), None, owner.clone()).await;
    assert_eq!((s.as_u16(), b["state"].as_str()), (200, Some("paused")), "{b}");
    // Paused means stopped: the tick does not move any more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, _, b1) = call("GET", format!("/api/simulation/{id}"), None, general.clone()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, _, b2) = call("GET", format!("/api/simulation/{id}"), None, general.clone()).await;
    assert_eq!(b1["simulation"]["current_tick"], b2["simulation"]["current_tick"]);
    assert_eq!(b1["state_hash"], b2["state_hash"]);

    // completed: a target tick ends the run; every transition is then 409.
    let (_, _, done) =
        call("POST", "/api/simulation".into(), Some(json!({"seed": 1, "target_tick": 5})), admin.clone()).await;
    let done_id = done["sim_id"].as_str().unwrap().to_string();
    let (s, _, b) = call("POST", format!("/api/simulation/{done_id}/step"), Some(json!({"n": 9})), admin.clone()).await;
    assert_eq!((s.as_u16(), b["current_tick"].as_i64(), b["state"].as_str()), (200, Some(5), Some("completed")), "{b}");
    for action in ["step", "resume", "pause"] {
        let (s, _, b) = call("POST", format!("/api/simulation/{done_id}/{action}"), None, admin.clone()).await;
        assert_eq!((s.as_u16(), b["error"].as_str()), (409, Some("conflict")), "{action}: {b}");
    }

    // Without a tick queue, resume is a 503 and changes nothing.
    let bare =
        exomaps_api::AppState::with_store(exomaps_api::config::Config::default(), store.clone()).with_secrets(keys);
    let bare_router = exomaps_tests::gateway_for(bare.clone());
    let (s, _, b) =
        request(&bare_router, req("POST", &format!("/api/simulation/{id}/resume"), None, &[("authorization", &admin)]))
            .await;
    assert_eq!((s.as_u16(), b["error"].as_str()), (503, Some("queue_unavailable")), "{b}");
    let (_, _, b) = call("GET", format!("/api/simulation/{id}"), None, general.clone()).await;
    assert_eq!(b["simulation"]["state"], "paused");
}

/// 1 × 400 = 400 × 1 = mixed batches, each batch its own transaction and each starting from
/// what PostgreSQL holds (nearest snapshot + replay), all equal to one in-memory run.
#[tokio::test]
async fn batching_invariance_with_a_database_round_trip_between_batches() {
    let store = sample_world().await;
    let c = ctx(&store, None);
    let one = service::create(&store, seeded(4242), None).await.unwrap();
    let many = service::create(&store, seeded(4242), None).await.unwrap();
    let mixed = service::create(&store, seeded(4242), None).await.unwrap();
    assert_eq!(service::step(&c, one.sim_id, 400).await.unwrap().sim.current_tick, 400);
    for _ in 0..400 {
        service::step(&c, many.sim_id, 1).await.unwrap();
    }
    for n in [1, 7, 50, 3, 139, 200] {
        service::step(&c, mixed.sim_id, n).await.unwrap();
    }
    let h = hash_at(&store, one.sim_id, 400).await;
    // The golden hash: seed 4242, the default scenario, 400 ticks from Sol on the sample world.
    // A change of the model's behaviour (or of the sample world) changes it: bump
    // `exomaps_sim::MODEL_VERSION` and update it.
    assert_eq!(h, SAMPLE_GOLDEN, "the sample world's 400-tick state changed");
    assert_eq!(hash_at(&store, many.sim_id, 400).await, h, "400 × 1 = 1 × 400");
    assert_eq!(hash_at(&store, mixed.sim_id, 400).await, h, "mixed batches = 1 × 400");
    let events = all_events(&store, one.sim_id).await;
    assert_eq!(all_events(&store, many.sim_id).await, events);
    assert_eq!(all_events(&store, mixed.sim_id).await, events);

    // The same as one uninterrupted in-memory run of the model.
    let sim = service::get(&store, one.sim_id).await.unwrap();
    let world = service::world_for(&store, sim.world_build_id).await.unwrap();
    let params: exomaps_sim::Params = serde_json::from_value(sim.params.0.clone()).unwrap();
    let start = world.world.index_of(&sim.start_system).unwrap();
    let (mut state, _) = exomaps_sim::init(&world.world, &params, 4242, start);
    exomaps_sim::run(&world.world, &params, &mut state, 400);
    assert_eq!(state.hash(), h, "the service computes what the model computes");
    // Intermediate ticks too (a tick between two snapshots is snapshot + replay).
    let mut state = exomaps_sim::init(&world.world, &params, 4242, start).0;
    exomaps_sim::run(&world.world, &params, &mut state, 137);
    assert_eq!(hash_at(&store, many.sim_id, 137).await, state.hash());
}

/// Snapshots are caches: snapshot K + the events after it reproduce the next snapshot's hash.
#[tokio::test]
async fn replaying_events_from_any_snapshot_reproduces_the_next_snapshot() {
    let store = sample_world().await;
    let c = ctx(&store, None);
    let sim =
        service::create(&store, CreateSim { seed: Some(99), snapshot_every: Some(25), ..Default::default() }, None)
            .await
            .unwrap();
    for n in [60, 1, 139] {
        service::step(&c, sim.sim_id, n).await.unwrap();
    }
    let sim = service::get(&store, sim.sim_id).await.unwrap();
    let world = service::world_for(&store, sim.world_build_id).await.unwrap();
    let params: exomaps_sim::Params = serde_json::from_value(sim.params.0.clone()).unwrap();
    let ticks = store.sim_snapshot_ticks(sim.sim_id).await.unwrap();
    assert_eq!(ticks, (0..=200).step_by(25).collect::<Vec<i64>>(), "a snapshot every 25 ticks, whatever the batches");
    for pair in ticks.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let snap = store.sim_snapshot_at_or_before(sim.sim_id, a).await.unwrap().unwrap();
        let next = store.sim_snapshot_at_or_before(sim.sim_id, b).await.unwrap().unwrap();
        let base: exomaps_sim::SimState = serde_json::from_value(snap.state.0).unwrap();
        assert_eq!(base.hash(), snap.state_hash, "a stored snapshot matches its stored hash");
        let rows = store.sim_events_between(sim.sim_id, a, b).await.unwrap();
        let events: Vec<exomaps_sim::Event> = rows
            .iter()
            .map(|r| exomaps_sim::Event {
                tick: r.tick as u64,
                seq: r.seq as u32,
                body: serde_json::from_value(r.payload.0.clone()).unwrap(),
            })
            .collect();
        let replayed = exomaps_sim::replay(&world.world, &params, base, &events);
        assert_eq!(replayed.hash(), next.state_hash, "snapshot {a} + events ({a}, {b}] = snapshot {b}");
    }
}

#[tokio::test]
async fn a_fork_shares_its_parents_history_and_goes_its_own_way_after() {
    let store = sample_world().await;
    let (state, _) = test_state(store.clone(), exomaps_api::config::Config::default());
    let router = exomaps_tests::gateway_for(state.clone());
    let admin = format!("Bearer {}", token_for(&state, Persona::Admin, &[Persona::Admin]).await);
    let c = ctx(&store, None);
    let parent = service::create(&store, seeded(5), None).await.unwrap();
    service::step(&c, parent.sim_id, 120).await.unwrap();

    let uri = format!("/api/simulation/{}/fork", parent.sim_id);
    let (s, _, b) =
        request(&router, req("POST", &uri, Some(json!({"at_tick": 121})), &[("authorization", &admin)])).await;
    assert_eq!(s, 400, "beyond the parent's tick: {b}");
    let (s, _, b) = request(&router, req("POST", &uri, Some(json!({"seed": 1})), &[("authorization", &admin)])).await;
    assert_eq!(s, 400, "at_tick is required: {b}");

    // Same seed: the fork replays the parent's future exactly.
    let (s, _, same) =
        request(&router, req("POST", &uri, Some(json!({"at_tick": 47})), &[("authorization", &admin)])).await;
    assert_eq!(s, 201, "{same}");
    assert_eq!(
        (same["parent_id"].as_str(), same["fork_tick"].as_i64()),
        (Some(parent.sim_id.to_string().as_str()), Some(47))
    );
    assert_eq!(same["current_tick"], 47);
    let fork_id: Uuid = same["sim_id"].as_str().unwrap().parse().unwrap();
    let parent_events = all_events(&store, parent.sim_id).await;
    let upto = |evs: &[(i64, i32, String, Value)], t: i64| evs.iter().filter(|e| e.0 <= t).cloned().collect::<Vec<_>>();
    assert_eq!(all_events(&store, fork_id).await, upto(&parent_events, 47), "the history up to 47 is the parent's");
    for t in [0, 10, 46, 47] {
        assert_eq!(hash_at(&store, fork_id, t).await, hash_at(&store, parent.sim_id, t).await, "state at {t}");
    }
    service::step(&c, fork_id, 73).await.unwrap();
    assert_eq!(hash_at(&store, fork_id, 120).await, hash_at(&store, parent.sim_id, 120).await);
    assert_eq!(all_events(&store, fork_id).await, parent_events);

    // Its own seed: same history up to the fork tick, the new seed in force after it.
    let (s, other) = {
        let (s, _, b) = request(
            &router,
            req("POST", &uri, Some(json!({"at_tick": 60, "seed": 777})), &[("authorization", &admin)]),
        )
        .await;
        (s, b)
    };
    assert_eq!(s, 201, "{other}");
    let other_id: Uuid = other["sim_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(other["seed"], 777);
    assert_eq!(all_events(&store, other_id).await, upto(&parent_events, 60));
    let o = service::get(&store, other_id).await.unwrap();
    assert_eq!(service::state_at(&store, &o, 60).await.unwrap().seed, 777);
    // The parent is untouched by its forks.
    assert_eq!(all_events(&store, parent.sim_id).await, parent_events);
}

#[tokio::test]
async fn an_observer_sees_far_systems_as_they_were_longer_ago() {
    let store = sample_world().await;
    let (state, _) = test_state(store.clone(), exomaps_api::config::Config::default());
    let router = exomaps_tests::gateway_for(state.clone());
    let c = ctx(&store, None);
    let sim = service::create(&store, seeded(11), None).await.unwrap();
    service::step(&c, sim.sim_id, 200).await.unwrap();
    let world = service::world_for(&store, sim.world_build_id).await.unwrap();
    let sol = world.world.index_of(&sim.start_system).unwrap();
    // A far observer whose light from Sol arrives within the 200 ticks.
    let (far, lag) = (0..world.world.systems.len() as u32)
        .map(|s| (s, world.light_lag_ticks(sol, s)))
        .filter(|(_, l)| *l > 10 && *l < 150)
        .max_by_key(|(_, l)| *l)
        .expect("a system 2.5–37 ly from Sol in the sample");
    let far_id = world.id_of(far).unwrap().to_string();
    let at = 200;
    let view = |observer: String| {
        let router = router.clone();
        let uri = format!("/api/simulation/{}/snapshot?tick={at}&observer={}", sim.sim_id, urlencode(&observer));
        async move {
            let (s, _, b) = request(&router, req("GET", &uri, None, &[])).await;
            assert_eq!(s, 200, "{b}");
            b
        }
    };
    let from_sol = view("Sol".into()).await;
    let from_far = view(far_id.clone()).await;
    let sol_seen = |b: &Value| {
        b["observer"]["systems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["system_id"] == sim.start_system.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("Sol is settled from tick 0 and visible: {b}"))
    };
    let near = sol_seen(&from_sol);
    let remote = sol_seen(&from_far);
    assert_eq!(near["as_of_tick"], at, "an observer at Sol sees Sol now");
    let remote_tick = remote["as_of_tick"].as_i64().unwrap();
    assert!(remote_tick < at, "from {far_id} ({lag} ticks of light away) Sol is seen as it was: {remote}");
    assert!(remote_tick <= at - lag as i64 + 1, "no later than the light allows: {remote} (lag {lag})");
    for s in from_far["observer"]["systems"].as_array().unwrap() {
        let l = s["light_lag_ticks"].as_i64().unwrap();
        assert!(s["as_of_tick"].as_i64().unwrap() <= at - l + 1, "light lag holds for every system: {s}");
    }
    let (s, _, b) = request(
        &router,
        req("GET", &format!("/api/simulation/{}/snapshot?observer=No%20Such%20Star", sim.sim_id), None, &[]),
    )
    .await;
    assert_eq!(s, 400, "{b}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The SQS tick chain: the handler commits only when the simulation is running, in the
/// message's epoch, at the message's tick. Duplicates, late and reordered messages change
/// nothing; a redelivery of the latest committed batch only re-sends its follow-up (same
/// deduplication id, so SQS would drop it if the first one was sent).
#[tokio::test]
async fn duplicated_late_and_reordered_tick_messages_change_nothing() {
    let store = sample_world().await;
    let c = ctx(&store, None);
    let rec = Recorder::default();
    let sim = service::create(&store, CreateSim { seed: Some(3), batch_ticks: Some(10), ..Default::default() }, None)
        .await
        .unwrap();
    let id = sim.sim_id;
    service::resume(&c, Some(&rec), id).await.unwrap();
    let first = rec.0.lock().unwrap().remove(0);
    assert_eq!(first.group_id, id.to_string(), "one message group per simulation");
    let m1: TickMessage = serde_json::from_str(&first.body).unwrap();
    assert_eq!((m1.from_tick, m1.epoch), (0, 1));
    let budget = Duration::from_secs(10);

    let snapshot = |store: Store| async move {
        let s = service::get(&store, id).await.unwrap();
        (s.current_tick, s.state.clone(), all_events(&store, id).await, hash_at(&store, id, s.current_tick).await)
    };

    let h1 = service::handle_tick(&c, &first.body, budget).await.unwrap();
    assert_eq!(h1.advanced.as_ref().unwrap().ticks, 10);
    let m2 = h1.next.unwrap();
    assert_eq!(m2.from_tick, 10);
    let after_first = snapshot(store.clone()).await;

    // The same message again (SQS redelivery): nothing written; the follow-up is re-sent with
    // the same deduplication id.
    let again = service::handle_tick(&c, &first.body, budget).await.unwrap();
    assert!(again.advanced.is_none());
    assert_eq!(again.next.unwrap().fifo_message(), m2.fifo_message());
    assert_eq!(snapshot(store.clone()).await, after_first);

    // A message from the future (reordered) and one from another epoch: nothing.
    for stale in [
        TickMessage { sim_id: id, from_tick: 50, epoch: 1 },
        TickMessage { sim_id: id, from_tick: 10, epoch: 0 },
        TickMessage { sim_id: id, from_tick: 10, epoch: 2 },
    ] {
        let h = service::handle_tick(&c, &serde_json::to_string(&stale).unwrap(), budget).await.unwrap();
        assert!(h.advanced.is_none() && h.next.is_none(), "{stale:?}");
        assert_eq!(snapshot(store.clone()).await, after_first, "{stale:?} changed nothing");
    }

    // The real next message advances; then the first one, now late, changes nothing.
    let h2 = service::handle_tick(&c, &m2.fifo_message().body, budget).await.unwrap();
    assert_eq!(h2.advanced.as_ref().unwrap().sim.current_tick, 20);
    let after_second = snapshot(store.clone()).await;
    let late = service::handle_tick(&c, &first.body, budget).await.unwrap();
    assert!(late.advanced.is_none() && late.next.is_none());
    assert_eq!(snapshot(store.clone()).await, after_second);

    // The chain gives the same state as stepping: batching through messages is invisible.
    let twin = service::create(&store, seeded(3), None).await.unwrap();
    service::step(&c, twin.sim_id, 20).await.unwrap();
    assert_eq!(hash_at(&store, twin.sim_id, 20).await, after_second.3);
    assert_eq!(all_events(&store, twin.sim_id).await, after_second.2);

    // Pause stops the chain: the pending message is a no-op with no follow-up.
    service::pause(&c, id).await.unwrap();
    let m3 = h2.next.unwrap();
    let h = service::handle_tick(&c, &m3.fifo_message().body, budget).await.unwrap();
    assert!(h.advanced.is_none() && h.next.is_none());
    // A resume at the same tick opens a new epoch: its message is not deduplicated away.
    service::resume(&c, Some(&rec), id).await.unwrap();
    let resumed = rec.0.lock().unwrap().remove(0);
    assert_ne!(resumed.dedup_id, m3.fifo_message().dedup_id);
    let h = service::handle_tick(&c, &m3.fifo_message().body, budget).await.unwrap();
    assert!(h.advanced.is_none(), "the old epoch's message is stale");
    let h = service::handle_tick(&c, &resumed.body, budget).await.unwrap();
    assert_eq!(h.advanced.unwrap().sim.current_tick, 30);

    // A simulation whose stored rules no longer fit the model fails with the reason (no retry loop).
    let broken = service::create(&store, seeded(4), None).await.unwrap();
    service::resume(&c, Some(&rec), broken.sim_id).await.unwrap();
    let m = rec.0.lock().unwrap().pop().unwrap();
    sqlx::query("UPDATE app_simulation.simulations SET params = '{\"not_a_rule\": 1}' WHERE sim_id = $1")
        .bind(broken.sim_id)
        .execute(store.pool())
        .await
        .unwrap();
    let h = service::handle_tick(&c, &m.body, budget).await.unwrap();
    assert!(h.advanced.is_none() && h.next.is_none());
    let b = service::get(&store, broken.sim_id).await.unwrap();
    assert_eq!(b.run_state(), RunState::Failed);
    assert!(b.failure_reason.as_deref().is_some_and(|r| r.contains("parameters")), "{:?}", b.failure_reason);

    // Malformed and unknown-simulation messages are poison (dead-letter queue), not retried.
    for poison in [
        "nope".to_string(),
        serde_json::to_string(&TickMessage { sim_id: Uuid::new_v4(), from_tick: 0, epoch: 1 }).unwrap(),
    ] {
        let e = service::handle_tick(&c, &poison, budget).await.unwrap_err();
        assert!(matches!(e, exomaps_pipeline::chain::HandleError::Poison(_)), "{e}");
    }
}

/// The local FIFO queue drops a repeated deduplication id, as SQS FIFO does.
#[tokio::test]
async fn the_local_fifo_queue_deduplicates() {
    let store = sample_world().await;
    let c = ctx(&store, None);
    let sim = service::create(
        &store,
        CreateSim { seed: Some(8), batch_ticks: Some(5), target_tick: Some(5), ..Default::default() },
        None,
    )
    .await
    .unwrap();
    let local = LocalQueues::spawn(c.clone(), 5, Duration::from_millis(50));
    service::resume(&c, Some(&local), sim.sim_id).await.unwrap();
    // The same message (same deduplication id) sent twice more.
    let m = TickMessage { sim_id: sim.sim_id, from_tick: 0, epoch: 1 }.fifo_message();
    local.send_fifo(FifoQueue::SimTick, m.clone()).await.unwrap();
    local.send_fifo(FifoQueue::SimTick, m).await.unwrap();
    for _ in 0..100 {
        if service::get(&store, sim.sim_id).await.unwrap().run_state() == RunState::Completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let s = service::get(&store, sim.sim_id).await.unwrap();
    assert_eq!((s.run_state(), s.current_tick), (RunState::Completed, 5));
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> Value {
    let msg =
        tokio::time::timeout(Duration::from_secs(20), ws.next()).await.expect("a frame within 20 s").unwrap().unwrap();
    assert!(msg.len() <= 32 * 1024, "a WebSocket message over 32 KB");
    serde_json::from_str(msg.to_text().unwrap()).unwrap()
}

/// Collects events from `sim.events` / `sim.tick` messages; returns the tick through which the
/// connection has received everything (a complete message set), and stops once `until` is reached.
async fn collect(ws: &mut Ws, got: &mut Vec<(i64, i64)>, until: impl Fn(i64, &Value) -> bool) -> i64 {
    let mut through = -1;
    loop {
        let m = next_json(ws).await;
        match m["type"].as_str().unwrap() {
            "sim.events" | "sim.tick" => {
                for e in m["events"].as_array().unwrap() {
                    got.push((e["tick"].as_i64().unwrap(), e["seq"].as_i64().unwrap()));
                }
                if m["part"] == m["parts"] {
                    through = m["through_tick"].as_i64().or(m["tick"].as_i64()).unwrap();
                }
            }
            "subscribed" | "sim.state" => {}
            other => panic!("unexpected message {other}: {m}"),
        }
        if until(through, &m) {
            return through;
        }
    }
}

#[tokio::test]
async fn a_reconnecting_client_gets_every_event_exactly_once_in_order() {
    let store = sample_world().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let notifier = Notifier::new(store.clone(), Some(Arc::new(HttpBroadcaster { port })));
    let c = ctx(&store, Some(notifier.clone()));
    let local = LocalQueues::spawn(c.clone(), 5, Duration::from_millis(50));
    let (state, _) = test_state(store.clone(), exomaps_api::config::Config::default());
    let state = state.with_queues(Arc::new(local)).with_notifier(notifier);
    let app = exomaps_tests::gateway_for(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let target = 300;
    let sim = service::create(
        &store,
        CreateSim {
            seed: Some(21),
            batch_ticks: Some(15),
            tick_interval_ms: Some(3),
            target_tick: Some(target),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    let channel = format!("sim:{}", sim.sim_id);
    let url = format!("ws://127.0.0.1:{port}/ws");

    // A: subscribes from the start, sees the run begin, then drops.
    let (mut a, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    a.send(Message::text(json!({"action": "subscribe", "channel": channel, "after_tick": -1}).to_string()))
        .await
        .unwrap();
    let mut got = Vec::new();
    collect(&mut a, &mut got, |_, m| m["type"] == "subscribed").await;
    let router = exomaps_tests::gateway_for(state.clone());
    let owner = format!("Bearer {}", token_for(&state, Persona::SimOwner, &[Persona::SimOwner]).await);
    let (s, _, b) = request(
        &router,
        req("POST", &format!("/api/simulation/{}/resume", sim.sim_id), None, &[("authorization", &owner)]),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let seen_by_a = collect(&mut a, &mut got, |through, _| through >= 60).await;
    drop(a); // the connection drops mid-run

    // The run goes on without it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(service::get(&store, sim.sim_id).await.unwrap().current_tick > seen_by_a, "ticks advanced while away");

    // B: reconnects with after_tick = what A had completely, and follows to the end.
    let (mut b, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    b.send(Message::text(json!({"action": "subscribe", "channel": channel, "after_tick": seen_by_a}).to_string()))
        .await
        .unwrap();
    got.retain(|(t, _)| *t <= seen_by_a);
    collect(&mut b, &mut got, |through, _| through >= target).await;

    let stored: Vec<(i64, i64)> = all_events(&store, sim.sim_id).await.iter().map(|e| (e.0, e.1 as i64)).collect();
    assert_eq!(service::get(&store, sim.sim_id).await.unwrap().run_state(), RunState::Completed);
    assert!(stored.last().is_some_and(|e| e.0 > seen_by_a), "events after the reconnect point exist");
    assert_eq!(got.len(), stored.len(), "no event lost or repeated");
    assert_eq!(got, stored, "every event exactly once, in (tick, seq) order");
}

/// One queued batch of up to 1000 ticks, sized to the batch budget, plus its commit, within
/// the 30 s the tick function has. On the real catalogue when `$EXOMAPS_SOURCES` (or
/// `../shared/data/sources`) is there, else on the sample; prints what it measured.
#[tokio::test]
async fn a_queued_batch_and_its_commit_fit_the_30_s_lambda_budget() {
    let (store, label) = match exomaps_tests::real_sources() {
        Some(dir) => {
            let (store, _) = fresh_store().await;
            let specs = exomaps_pipeline::sources_in(&dir, None).unwrap();
            let run = run_pipeline(&store, "real", &specs, Scope::default()).await.unwrap();
            assert_ne!(run.status, "fail", "{:?}", run.failure_reason);
            (store, "real catalogue")
        }
        None => (sample_world().await, "sample"),
    };
    let c = ctx(&store, None);
    // The default rules, and a busy variant (every settlement launches every tick).
    let busy = json!({"launch_min_population": 1000, "launch_interval_ticks": 1, "colonists_per_ship": 100});
    for (what, params) in [("default", None), ("busy", Some(busy))] {
        let rec = Recorder::default();
        let input = CreateSim { seed: Some(1), batch_ticks: Some(1000), params, ..Default::default() };
        let sim = service::create(&store, input, None).await.unwrap();
        let systems = service::world_for(&store, sim.world_build_id).await.unwrap().world.systems.len();
        service::resume(&c, Some(&rec), sim.sim_id).await.unwrap();
        let first = rec.0.lock().unwrap().remove(0);
        let budget = service::batch_budget();
        let started = std::time::Instant::now();
        let handled = service::handle_tick(&c, &first.body, budget).await.unwrap();
        let total = started.elapsed();
        let a = handled.advanced.expect("the batch committed");
        println!(
            "sim-tick batch, {what} rules, on the {label} ({systems} systems): {} ticks, {} events; compute {} ms, \
             commit {} ms, whole message {} ms (budget {} ms, Lambda timeout 30 s)",
            a.ticks,
            a.events,
            a.compute_ms,
            a.commit_ms,
            total.as_millis(),
            budget.as_millis()
        );
        assert!(a.ticks >= 1);
        assert!(total < Duration::from_secs(30), "one batch with its commit took {total:?}");
    }
}
