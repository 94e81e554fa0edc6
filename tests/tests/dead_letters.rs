//! Issue 9: a phase message that dead-letters fails its run, from the DLQ side. Real SQS redrive
//! in the emulator through the AWS SDK: a consumer that crashes on every delivery (receives and
//! never answers) lets `maxReceiveCount` run out, SQS moves the message to the phase's DLQ, and
//! the dead-letter consumer (`poll_dlq_once` → `handle_dlq_batch`, the `phase-dlq` function's
//! code) fails the run with the phase and the cause. Without the consumer the run would stay
//! `running` (checked before it runs). A run that already ended keeps its outcome.

use aws_sdk_sqs::types::QueueAttributeName as A;
use exomaps_pipeline::aws::poll_dlq_once;
use exomaps_pipeline::chain::Phase;
use exomaps_platform::queue::QueueConsumer;
use exomaps_store::runs::RunStatus;
use exomaps_tests::fresh_store;
use serde_json::json;
use std::time::{Duration, Instant};

const MAX_RECEIVES: u32 = 2;

struct PhaseQueues {
    queue: QueueConsumer,
    dlq: QueueConsumer,
}

/// `<prefix>-pipeline-<phase>` with its DLQ (redrive after MAX_RECEIVES, visibility 1 s).
async fn phase_queues(client: &aws_sdk_sqs::Client, prefix: &str, phase: Phase) -> PhaseQueues {
    let name = format!("{prefix}-pipeline-{}", phase.as_str());
    let dlq = client.create_queue().queue_name(format!("{name}-dlq")).send().await.unwrap().queue_url.unwrap();
    let attrs = client.get_queue_attributes().queue_url(&dlq).attribute_names(A::QueueArn).send().await.unwrap();
    let arn = attrs.attributes.unwrap()[&A::QueueArn].clone();
    let url = client
        .create_queue()
        .queue_name(&name)
        .attributes(A::VisibilityTimeout, "1")
        .attributes(
            A::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"{MAX_RECEIVES}"}}"#),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    PhaseQueues {
        queue: QueueConsumer::with_url(client.clone(), url),
        dlq: QueueConsumer::with_url(client.clone(), dlq),
    }
}

/// A function that crashes on every delivery: it receives the message and never deletes it or
/// answers. Returns once SQS has moved the message to the DLQ.
async fn crash_until_dead_lettered(q: &PhaseQueues) {
    let started = Instant::now();
    loop {
        let got = q.queue.receive(10, Duration::from_millis(200)).await.unwrap();
        assert!(got.iter().all(|m| m.receive_count <= MAX_RECEIVES), "delivered past maxReceiveCount");
        if q.dlq.depth().await.unwrap().visible >= 1 {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "not dead-lettered after 60 s");
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
}

fn emulator() -> bool {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI must run the emulator");
        eprintln!("skipping: AWS_ENDPOINT_URL is not set (./dev test starts the emulator)");
        return false;
    }
    true
}

#[tokio::test]
async fn a_crashed_phase_message_fails_its_run_from_the_dlq() {
    if !emulator() {
        return;
    }
    let client = exomaps_platform::aws::sqs_client(exomaps_platform::aws::config().await);
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let (store, _) = fresh_store().await;
    let ctx = exomaps_tests::silent_context(&store);

    // A run whose transform message reaches a function that crashes on every delivery.
    let transform = phase_queues(&client, &prefix, Phase::Transform).await;
    let run_id = uuid::Uuid::new_v4();
    store.create_run(run_id, "crashes in transform", Some(1)).await.unwrap();
    let body = json!({"run_id": run_id, "phase": "transform"}).to_string();
    client.send_message().queue_url(transform.queue.url()).message_body(&body).send().await.unwrap();
    crash_until_dead_lettered(&transform).await;

    // In the DLQ, and nothing else has touched the run: it is still running.
    let before = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(before.status, "running", "the run ended before the dead-letter consumer ran");
    assert!(before.failure_reason.is_none());

    // The dead-letter consumer fails it with the phase and the cause, and consumes the message.
    let n = poll_dlq_once(&ctx, Phase::Transform, &transform.dlq, Duration::from_secs(1)).await.unwrap();
    assert_eq!(n, 1);
    let after = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(after.status, "fail");
    assert!(after.finished_at.is_some());
    let reason = after.failure_reason.unwrap();
    assert!(reason.starts_with("transform message dead-lettered: "), "{reason}");
    assert!(reason.contains("crashed, timed out or failed"), "{reason}");
    let depth = transform.dlq.depth().await.unwrap();
    assert_eq!((depth.visible, depth.in_flight), (0, 0), "the dead letter was not consumed");

    // Idempotent: the same dead letter again (a redelivery of the DLQ message) and one for a run
    // that passed leave both outcomes as they are.
    let passed = uuid::Uuid::new_v4();
    store.create_run(passed, "passed", None).await.unwrap();
    store.finish_run(passed, RunStatus::Pass, None).await.unwrap();
    for id in [run_id, passed] {
        let body = json!({"run_id": id, "phase": "transform"}).to_string();
        client.send_message().queue_url(transform.dlq.url()).message_body(&body).send().await.unwrap();
    }
    let mut consumed = 0;
    while consumed < 2 {
        consumed += poll_dlq_once(&ctx, Phase::Transform, &transform.dlq, Duration::from_secs(1)).await.unwrap();
    }
    let again = store.run(run_id).await.unwrap().unwrap();
    assert_eq!((again.status.as_str(), again.failure_reason.as_deref()), ("fail", Some(reason.as_str())));
    let passed = store.run(passed).await.unwrap().unwrap();
    assert_eq!((passed.status.as_str(), passed.failure_reason), ("pass", None));
}

/// The issue's case: `POST /api/runs` queued a run whose kick carries a NUL in a source URI; the
/// ingest message dead-letters as poison and the run fails naming ingest and the defect.
#[tokio::test]
async fn a_poison_kick_fails_its_queued_run_from_the_dlq() {
    if !emulator() {
        return;
    }
    let client = exomaps_platform::aws::sqs_client(exomaps_platform::aws::config().await);
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let (store, _) = fresh_store().await;
    let ctx = exomaps_tests::silent_context(&store);
    let ingest = phase_queues(&client, &prefix, Phase::Ingest).await;
    let run_id = uuid::Uuid::new_v4();
    store.queue_run(run_id, "poison kick", None).await.unwrap();
    let kick =
        json!({"run_name": "poison kick", "sources": [{"family": "SIMBAD", "uri": "s3://b/\u{0}"}], "run_id": run_id});
    client.send_message().queue_url(ingest.queue.url()).message_body(kick.to_string()).send().await.unwrap();
    crash_until_dead_lettered(&ingest).await;
    assert_eq!(store.run(run_id).await.unwrap().unwrap().status, "queued");

    poll_dlq_once(&ctx, Phase::Ingest, &ingest.dlq, Duration::from_secs(1)).await.unwrap();
    let run = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, "fail");
    let reason = run.failure_reason.unwrap();
    assert!(reason.starts_with("ingest message dead-lettered: poison message ("), "{reason}");
    assert!(reason.contains("NUL"), "{reason}");
    assert!(!reason.contains('\0'));
}
