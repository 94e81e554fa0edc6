//! `room-load` (issue 16, `./dev room-load`): N room members moving their cursors through a
//! local gateway's WebSocket at R messages a second each for S seconds. Each cursor carries its
//! send time (ms since the start, in the point's x), so every receiver measures delivery
//! latency on one clock. Writes messages/s in and out, latency percentiles, dropped connections
//! and the largest frame as JSON; exits 1 on any dropped connection or a frame ≥ 32 KB.
//!
//! `room-load <base-url> <secrets.json> <out.json> [members=50] [rate=10] [secs=30]`
//! Members sign in with access tokens minted from the gateway's local signing key (the
//! gateway's `up` writes it to `<data dir>/secrets.json`), one user per member.

use exomaps_api::auth::token::{self, Subject};
use exomaps_api::secrets::SecretSource;
use exomaps_domain::persona::Persona;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Default)]
struct Totals {
    sent: AtomicU64,
    frames_in: AtomicU64,
    cursor_frames: AtomicU64,
    updates: AtomicU64,
    max_frame: AtomicUsize,
    dropped: AtomicU64,
    errors: AtomicU64,
}

/// POST with a bearer token over a plain HTTP/1.1 connection; returns the JSON answer.
async fn post_json(base: &str, path: &str, token: &str, body: &Value) -> Result<Value, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = tokio::net::TcpStream::connect(host).await.map_err(|e| e.to_string())?;
    let body = body.to_string();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
    if !head.starts_with("HTTP/1.1 2") {
        return Err(format!("{head}\n{body}"));
    }
    serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    Some((sorted[i] * 100.0).round() / 100.0)
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        return Err("usage: room-load <base-url> <secrets.json> <out.json> [members] [rate] [secs]".into());
    }
    let (base, secrets, out) = (args[0].clone(), args[1].clone(), args[2].clone());
    let num = |i: usize, d: u64| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
    let (members, rate, secs) = (num(3, 50) as usize, num(4, 10), num(5, 30));

    let config = exomaps_api::config::Config::from_env()?;
    let source =
        exomaps_api::secrets::FileSource::open(&secrets, Duration::from_secs(60)).map_err(|e| e.to_string())?;
    let keys = source.signing_keys().await.map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let tokens: Vec<String> = (0..members)
        .map(|i| {
            let subject = Subject {
                user_id: uuid::Uuid::new_v4(),
                username: format!("load_{i:02}"),
                persona: Persona::GeneralUser,
                personas: vec![Persona::GeneralUser],
                session: None,
            };
            token::issue(&config.auth, &keys, &subject, now).map(|t| t.0)
        })
        .collect::<Result<_, _>>()?;
    let room = post_json(&base, "/api/rooms", &tokens[0], &json!({"name": "load test"})).await?;
    let room_id = room["id"].as_str().ok_or("no room id")?.to_string();
    let channel = format!("room:{room_id}");
    let ws_url = format!("{}/ws", base.replacen("http://", "ws://", 1));

    // Connect and join everyone first.
    let mut sockets = Vec::new();
    for t in &tokens {
        let mut r = ws_url.as_str().into_client_request().map_err(|e| e.to_string())?;
        r.headers_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(r).await.map_err(|e| e.to_string())?;
        ws.send(Message::text(json!({"action": "subscribe", "channel": channel}).to_string()))
            .await
            .map_err(|e| e.to_string())?;
        let (mut subscribed, mut state) = (false, false);
        while !(subscribed && state) {
            let m = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.map_err(|_| "no room state")?;
            let Some(Ok(Message::Text(t))) = m else { return Err("socket closed while joining".into()) };
            let v: Value = serde_json::from_str(t.as_str()).map_err(|e| e.to_string())?;
            match v["type"].as_str() {
                Some("subscribed") => subscribed = true,
                Some("room_state") => state = true,
                Some("error") => return Err(format!("join failed: {v}")),
                _ => {}
            }
        }
        sockets.push(ws);
    }
    eprintln!("room-load: {members} members joined {channel}; {rate}/s each for {secs} s");

    let totals = Arc::new(Totals::default());
    let start = Instant::now();
    let run_for = Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for (i, ws) in sockets.into_iter().enumerate() {
        let (mut tx, mut rx) = ws.split();
        let totals = totals.clone();
        let room_id = room_id.clone();
        let me = format!("load_{i:02}");
        // Sender: `rate` cursor messages a second, phase-shifted per member.
        let sender = {
            let totals = totals.clone();
            tokio::spawn(async move {
                let period = Duration::from_micros(1_000_000 / rate.max(1));
                tokio::time::sleep(period.mul_f64(i as f64 / members as f64)).await;
                let mut tick = tokio::time::interval(period);
                let mut seq = 0u64;
                while start.elapsed() < run_for {
                    tick.tick().await;
                    let sent_ms = start.elapsed().as_secs_f64() * 1000.0;
                    let msg = json!({"action": "cursor", "room": room_id,
                        "target": {"point": [sent_ms, i as f64, seq as f64]}, "selection": null});
                    if tx.send(Message::text(msg.to_string())).await.is_err() {
                        totals.dropped.fetch_add(1, Ordering::Relaxed);
                        return tx;
                    }
                    totals.sent.fetch_add(1, Ordering::Relaxed);
                    seq += 1;
                }
                tx
            })
        };
        // Receiver: latency of each newer position of each other member.
        let receiver = tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut last_seen: std::collections::HashMap<String, f64> = Default::default();
            let stop = run_for + Duration::from_secs(2);
            loop {
                let left = stop.saturating_sub(start.elapsed());
                if left.is_zero() {
                    break;
                }
                match tokio::time::timeout(left, rx.next()).await {
                    Err(_) => break,
                    Ok(Some(Ok(Message::Text(t)))) => {
                        let recv_ms = start.elapsed().as_secs_f64() * 1000.0;
                        totals.frames_in.fetch_add(1, Ordering::Relaxed);
                        totals.max_frame.fetch_max(t.len(), Ordering::Relaxed);
                        let v: Value = match serde_json::from_str(t.as_str()) {
                            Ok(v) => v,
                            Err(_) => continue,
                        };
                        match v["type"].as_str() {
                            Some("cursors") => {
                                totals.cursor_frames.fetch_add(1, Ordering::Relaxed);
                                for c in v["cursors"].as_array().into_iter().flatten() {
                                    let user = c["user"].as_str().unwrap_or_default();
                                    let Some(sent) = c["target"]["point"][0].as_f64() else { continue };
                                    if user == me || last_seen.get(user).is_some_and(|s| *s >= sent) {
                                        continue;
                                    }
                                    last_seen.insert(user.to_string(), sent);
                                    latencies.push(recv_ms - sent);
                                    totals.updates.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Some("error") => {
                                totals.errors.fetch_add(1, Ordering::Relaxed);
                                eprintln!("room-load: error reply {v}");
                            }
                            _ => {}
                        }
                    }
                    Ok(Some(Ok(_))) => {}
                    Ok(Some(Err(_)) | None) => {
                        totals.dropped.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
            }
            (rx, latencies)
        });
        tasks.push((sender, receiver));
    }
    let mut latencies = Vec::new();
    let mut pairs = Vec::new();
    for (s, r) in tasks {
        let tx = s.await.map_err(|e| e.to_string())?;
        let (rx, l) = r.await.map_err(|e| e.to_string())?;
        latencies.extend(l);
        pairs.push((tx, rx));
    }
    let elapsed = start.elapsed().as_secs_f64();
    for (tx, rx) in pairs {
        if let Ok(mut ws) = tx.reunite(rx) {
            let _ = ws.close(None).await;
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let t = &totals;
    let sent = t.sent.load(Ordering::Relaxed);
    let frames = t.frames_in.load(Ordering::Relaxed);
    let result = json!({
        "members": members,
        "rate_per_member": rate,
        "seconds": secs,
        "messages_in": sent,
        "messages_in_per_sec": (sent as f64 / secs as f64 * 10.0).round() / 10.0,
        "messages_out": frames,
        "messages_out_per_sec": (frames as f64 / elapsed * 10.0).round() / 10.0,
        "cursor_frames_out": t.cursor_frames.load(Ordering::Relaxed),
        "cursor_updates_delivered": t.updates.load(Ordering::Relaxed),
        "latency_ms": {
            "p50": percentile(&latencies, 50.0),
            "p90": percentile(&latencies, 90.0),
            "p99": percentile(&latencies, 99.0),
            "max": latencies.last().map(|v| (v * 100.0).round() / 100.0),
        },
        "dropped_connections": t.dropped.load(Ordering::Relaxed),
        "error_replies": t.errors.load(Ordering::Relaxed),
        "max_frame_bytes": t.max_frame.load(Ordering::Relaxed),
    });
    let text = serde_json::to_string_pretty(&result).unwrap();
    std::fs::write(&out, format!("{text}\n")).map_err(|e| format!("{out}: {e}"))?;
    println!("{text}");
    let ok = t.dropped.load(Ordering::Relaxed) == 0
        && t.errors.load(Ordering::Relaxed) == 0
        && t.max_frame.load(Ordering::Relaxed) < 32 * 1024
        && !latencies.is_empty();
    if !ok {
        return Err("room-load failed: dropped connections, error replies, a frame ≥ 32 KB or no delivery".into());
    }
    Ok(())
}
