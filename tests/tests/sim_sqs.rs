//! A running simulation over a real SQS FIFO queue (the emulator, through the AWS SDK): resume
//! sends the first tick message, each batch sends the next (message group = simulation id,
//! deduplication id = simulation + epoch + tick), a duplicated message is dropped by the queue's
//! deduplication and a stale one changes nothing; the result equals stepping the same ticks.

use aws_sdk_sqs::types::QueueAttributeName as A;
use exomaps_domain::coords::Scope;
use exomaps_pipeline::aws::{SqsQueues, poll_sim_once};
use exomaps_pipeline::chain::PipelineContext;
use exomaps_pipeline::notify::Notifier;
use exomaps_pipeline::queue::{FifoQueue, Queues};
use exomaps_pipeline::sim::{self as service, CreateSim, TickMessage};
use exomaps_pipeline::{Family, SourceSpec, run_pipeline};
use exomaps_platform::queue::QueueConsumer;
use exomaps_store::sim::RunState;
use exomaps_tests::{fresh_store, sample_sources};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_simulation_runs_through_a_fifo_queue_and_duplicates_are_dropped() {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI must run the emulator");
        eprintln!("skipping: AWS_ENDPOINT_URL is not set (./dev test starts the emulator)");
        return;
    }
    let client = exomaps_platform::aws::sqs_client(exomaps_platform::aws::config().await);
    let name = format!("t{}-sim-tick.fifo", uuid::Uuid::new_v4().simple());
    let url = client
        .create_queue()
        .queue_name(&name)
        .attributes(A::FifoQueue, "true")
        .attributes(A::VisibilityTimeout, "2")
        .send()
        .await
        .expect("create a FIFO queue")
        .queue_url
        .unwrap();

    let (store, _) = fresh_store().await;
    let spec = SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv"));
    run_pipeline(&store, "sqs-sim", &[spec], Scope::default()).await.unwrap();
    let ctx = PipelineContext {
        store: store.clone(),
        scope: Scope::default(),
        notifier: Notifier::silent(store.clone()),
        objects: None,
    };
    let queues = SqsQueues::new(client.clone(), HashMap::new()).with_sim_tick_url(url.clone());
    let sim = service::create(
        &store,
        CreateSim { seed: Some(17), batch_ticks: Some(10), target_tick: Some(50), ..Default::default() },
        None,
    )
    .await
    .unwrap();
    service::resume(&ctx, Some(&queues), sim.sim_id).await.unwrap();
    // The first message again (same deduplication id): the FIFO queue accepts and drops it.
    let first = TickMessage { sim_id: sim.sim_id, from_tick: 0, epoch: 1 };
    queues.send_fifo(FifoQueue::SimTick, first.fifo_message()).await.unwrap();
    // A reordered message from the future (its own deduplication id): delivered, changes nothing.
    let stale = TickMessage { sim_id: sim.sim_id, from_tick: 999, epoch: 1 };
    queues.send_fifo(FifoQueue::SimTick, stale.fifo_message()).await.unwrap();

    let consumer = QueueConsumer::with_url(client.clone(), url.clone());
    let started = Instant::now();
    let mut received = 0;
    loop {
        received += poll_sim_once(&ctx, &queues, &consumer, Duration::from_secs(1)).await.unwrap();
        let s = service::get(&store, sim.sim_id).await.unwrap();
        if s.run_state() == RunState::Completed {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "not completed within 60 s: tick {}", s.current_tick);
    }
    // Drain what is left (nothing should be).
    received += poll_sim_once(&ctx, &queues, &consumer, Duration::from_secs(1)).await.unwrap();
    let s = service::get(&store, sim.sim_id).await.unwrap();
    assert_eq!(s.current_tick, 50);
    // 5 batch messages (from 0, 10, 20, 30, 40) + the stale one; the duplicate was dropped.
    assert_eq!(received, 6, "messages received from the FIFO queue");
    for from in [0, 10, 20, 30, 40] {
        let b = store.sim_batch(sim.sim_id, from).await.unwrap().expect("one batch per message");
        assert_eq!((b.to_tick, b.source.as_str()), (from + 10, "queue"));
    }

    // The same as stepping 50 ticks.
    let twin = service::create(&store, CreateSim { seed: Some(17), ..Default::default() }, None).await.unwrap();
    service::step(&ctx, twin.sim_id, 50).await.unwrap();
    let hash = |id| {
        let store = store.clone();
        async move {
            let s = service::get(&store, id).await.unwrap();
            service::state_at(&store, &s, 50).await.unwrap().hash()
        }
    };
    assert_eq!(hash(sim.sim_id).await, hash(twin.sim_id).await);
    client.delete_queue().queue_url(&url).send().await.ok();
}
