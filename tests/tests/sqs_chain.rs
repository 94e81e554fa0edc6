//! The phase chain over real SQS (the emulator, through the AWS SDK): a kick message on the
//! ingest queue becomes an active world build; a poison message fails alone, is redelivered,
//! and ends in its queue's dead-letter queue while the rest of its batch completes.

use aws_sdk_sqs::types::QueueAttributeName as A;
use exomaps_domain::coords::Scope;
use exomaps_pipeline::aws::{SqsQueues, handle_batch, poll_once};
use exomaps_pipeline::chain::{KickMessage, Phase, PipelineContext};
use exomaps_pipeline::notify::Notifier;
use exomaps_pipeline::queue::Queues;
use exomaps_pipeline::{Family, SourceSpec};
use exomaps_platform::queue::QueueConsumer;
use exomaps_tests::{fresh_store, sample_sources};
use std::collections::HashMap;
use std::time::{Duration, Instant};

async fn queue(client: &aws_sdk_sqs::Client, name: &str, dlq_arn: Option<&str>) -> String {
    let mut req = client.create_queue().queue_name(name).attributes(A::VisibilityTimeout, "1");
    if let Some(arn) = dlq_arn {
        req = req.attributes(A::RedrivePolicy, format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"2"}}"#));
    }
    req.send().await.expect("create queue").queue_url.unwrap()
}

async fn arn(client: &aws_sdk_sqs::Client, url: &str) -> String {
    let out = client.get_queue_attributes().queue_url(url).attribute_names(A::QueueArn).send().await.unwrap();
    out.attributes.unwrap()[&A::QueueArn].clone()
}

#[tokio::test]
async fn a_kick_on_sqs_builds_the_world_and_a_poison_message_ends_in_the_dlq() {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI must run the emulator");
        eprintln!("skipping: AWS_ENDPOINT_URL is not set (./dev test starts the emulator)");
        return;
    }
    let client = exomaps_platform::aws::sqs_client(exomaps_platform::aws::config().await);
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let mut urls = HashMap::new();
    let mut dlqs = HashMap::new();
    for phase in Phase::ALL {
        let dlq = queue(&client, &format!("{prefix}-{}-dlq", phase.as_str()), None).await;
        let dlq_arn = arn(&client, &dlq).await;
        urls.insert(phase, queue(&client, &format!("{prefix}-{}", phase.as_str()), Some(&dlq_arn)).await);
        dlqs.insert(phase, dlq);
    }
    let (store, _) = fresh_store().await;
    let ctx = exomaps_tests::silent_context(&store);
    let queues = SqsQueues::new(client.clone(), urls.clone());

    let run_id = uuid::Uuid::new_v4();
    let kick = KickMessage {
        run_name: "over sqs".into(),
        sources: vec![SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv"))],
        seed: Some(5),
        run_id: Some(run_id),
        shards: None,
    };
    queues.send(Phase::Ingest, serde_json::to_string(&kick).unwrap()).await.unwrap();
    // A poison message in the transform queue, in the same batches as the real one.
    queues.send(Phase::Transform, r#"{"run_id": "not-a-uuid", "phase": "transform"}"#.into()).await.unwrap();

    let consumers: Vec<(Phase, QueueConsumer)> =
        Phase::ALL.into_iter().map(|p| (p, QueueConsumer::with_url(client.clone(), urls[&p].clone()))).collect();
    let started = Instant::now();
    loop {
        for (phase, consumer) in &consumers {
            poll_once(&ctx, &queues, *phase, consumer, Duration::ZERO).await.unwrap();
        }
        let run = store.run(run_id).await.unwrap();
        let done = run.as_ref().is_some_and(|r| r.finished_at.is_some());
        let dlq_depth =
            exomaps_platform::queue::QueueConsumer::with_url(client.clone(), dlqs[&Phase::Transform].clone())
                .depth()
                .await
                .unwrap();
        if done && dlq_depth.visible == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "chain not done in 60 s: {run:?} dlq {dlq_depth:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let run = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, "pass");
    let build = store.active_world_build().await.unwrap().expect("an active world build");
    assert_eq!(build.run_id, run_id);
    let dead = QueueConsumer::with_url(client.clone(), dlqs[&Phase::Transform].clone())
        .receive(10, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].body.contains("not-a-uuid"));
    for phase in [Phase::Ingest, Phase::Canonicalise, Phase::Infer, Phase::Publish] {
        let d = QueueConsumer::with_url(client.clone(), dlqs[&phase].clone()).depth().await.unwrap();
        assert_eq!(d.visible, 0, "{phase:?} DLQ");
    }

    // The batch contract itself: two messages, one poison: only the poison is reported.
    let event: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_value(serde_json::json!({"Records": [
        {"messageId": "good", "body": serde_json::json!({"run_id": run_id, "phase": "publish"}).to_string()},
        {"messageId": "bad", "body": "{"},
    ]}))
    .unwrap();
    let response = handle_batch(&ctx, &queues, Phase::Publish, event).await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["bad"]);
}

/// Publish writes the map asset and its pointer to the SPA bucket (S3 in the emulator).
#[tokio::test]
async fn publish_puts_the_asset_and_pointer_in_the_bucket() {
    use exomaps_pipeline::aws::S3Sink;
    use exomaps_pipeline::run_chain;
    use exomaps_platform::objects::ObjectStore;
    use std::sync::Arc;
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI must run the emulator");
        eprintln!("skipping: AWS_ENDPOINT_URL is not set");
        return;
    }
    let s3 = exomaps_platform::aws::s3_client(exomaps_platform::aws::config().await);
    let bucket = format!("exomaps-spa-{}", uuid::Uuid::new_v4().simple());
    s3.create_bucket().bucket(&bucket).send().await.expect("create bucket");
    let objects = ObjectStore::new(s3.clone(), bucket.clone());
    let (store, _) = fresh_store().await;
    let ctx = PipelineContext {
        store: store.clone(),
        scope: Scope::default(),
        notifier: Notifier::silent(store.clone()),
        objects: Some(Arc::new(S3Sink::new(objects.clone()))),
    };
    let kick = KickMessage {
        run_name: "to the bucket".into(),
        sources: vec![SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv"))],
        seed: None,
        run_id: None,
        shards: None,
    };
    let report = run_chain(&ctx, &kick).await.unwrap();
    assert_eq!(report.status, "pass");
    let pointer = objects.get("data/world/latest.json").await.unwrap().expect("latest.json");
    let pointer: serde_json::Value = serde_json::from_slice(&pointer.body).unwrap();
    let key = pointer["asset"].as_str().unwrap().trim_start_matches('/').to_string();
    let asset = objects.get(&key).await.unwrap().expect("the asset");
    let names_key = pointer["names"].as_str().unwrap().trim_start_matches('/').to_string();
    let names = objects.get(&names_key).await.unwrap().expect("the names part");
    let decoded = exomaps_domain::asset::decode(&asset.body, Some(&names.body)).unwrap();
    assert_eq!(decoded.systems.len() as u64, pointer["systems"].as_u64().unwrap());
    assert_eq!(decoded.world_build_id as i64, pointer["world_build_id"].as_i64().unwrap());
    assert!(decoded.systems.iter().any(|s| s.main_id == "Sol"));
}
