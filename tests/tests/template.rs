//! The function tables in code and infra/template.yaml agree, and the template keeps the shape
//! the deployment relies on:
//!
//! * every HTTP route ↔ one binary ↔ one function with one `Api` event (same method and path);
//! * the simulation tick function (`sim-tick`) ↔ one FIFO queue `${AWS::StackName}-sim-tick.fifo`
//!   with its FIFO DLQ (redrive, maxReceiveCount 5, visibility 6 × the function timeout), one
//!   event source mapping reporting batch item failures, a DLQ alarm; least privilege: only it
//!   polls the queue, only it and `sim-resume` send to it;
//! * every pipeline phase ↔ one binary ↔ one function, one queue named
//!   `${AWS::StackName}-pipeline-<phase>` with its DLQ (redrive, maxReceiveCount 5, visibility 6 ×
//!   the function timeout), one event source mapping reporting batch item failures, a DLQ alarm,
//!   and the DLQ feeding the one dead-letter consumer `phase-dlq` (issue 9);
//! * every WebSocket route ↔ one binary ↔ one function, one route with that route key, its
//!   integration and invoke permission;
//! * every function: rust-cargolambda from `../functions`, an errors alarm, secret ids by
//!   `!GetAtt X.Id` (ministack's `!Ref` of a secret is its name), `AWS_ENDPOINT_URL` only through
//!   the `Emulated` condition;
//! * every queue URL is an output; no `AWS::ApiGatewayV2::Deployment` (ministack has none);
//! * (issue 14) the `migrate` function behind a `Custom::Migrations` resource whose ServiceToken
//!   is the function's published version (so a new deploy reruns it); `DatabaseMode create`:
//!   every VPC / Aurora / RDS Proxy resource on the `CreateDatabase` condition, the functions in
//!   the private subnets, VPC endpoints for SQS, Secrets Manager, execute-api (interface) and S3
//!   (gateway), no NAT or internet gateway, least-privilege security groups; the scheduled kick
//!   (EventBridge Scheduler → the ingest queue, DISABLED unless `ScheduleEnabled`).
//!
//! The checks return a list of problems, so the mutation tests below can show each one bites.

use exomaps_api::ROUTES;
use exomaps_pipeline::chain::Phase;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn template() -> Value {
    let text = std::fs::read_to_string(repo().join("infra/template.yaml")).unwrap();
    serde_yaml::from_str(&text).expect("infra/template.yaml is YAML")
}

/// The argument of an intrinsic function, in short (`!Ref X`) or long (`{Ref: X}`) form.
fn intrinsic<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(t) if t.tag == format!("!{name}") => Some(&t.value),
        Value::Mapping(m) if m.len() == 1 => {
            let long = if name == "Ref" { "Ref".to_string() } else { format!("Fn::{name}") };
            m.get(long.as_str())
        }
        _ => None,
    }
}

fn ref_of(v: &Value) -> Option<&str> {
    intrinsic(v, "Ref")?.as_str()
}

/// `!GetAtt X.Attr` (or the list form) as (X, Attr).
fn getatt_of(v: &Value) -> Option<(String, String)> {
    match intrinsic(v, "GetAtt")? {
        Value::String(s) => s.split_once('.').map(|(a, b)| (a.to_string(), b.to_string())),
        Value::Sequence(s) if s.len() == 2 => Some((s[0].as_str()?.to_string(), s[1].as_str()?.to_string())),
        _ => None,
    }
}

fn sub_of(v: &Value) -> Option<&str> {
    intrinsic(v, "Sub")?.as_str()
}

/// Every node inside `v`, `v` included (to look for intrinsic functions anywhere).
fn walk<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(v);
    match v {
        Value::Sequence(s) => s.iter().for_each(|x| walk(x, out)),
        Value::Mapping(m) => m.values().for_each(|x| walk(x, out)),
        Value::Tagged(t) => walk(&t.value, out),
        _ => {}
    }
}

struct Template<'a> {
    resources: BTreeMap<String, &'a Value>,
}

impl<'a> Template<'a> {
    fn new(root: &'a Value) -> Template<'a> {
        let resources = root["Resources"]
            .as_mapping()
            .expect("Resources")
            .iter()
            .map(|(k, v)| (k.as_str().unwrap().to_string(), v))
            .collect();
        Template { resources }
    }

    fn of_type(&self, ty: &str) -> Vec<(&str, &'a Value)> {
        self.resources.iter().filter(|(_, r)| r["Type"].as_str() == Some(ty)).map(|(k, r)| (k.as_str(), *r)).collect()
    }

    /// Function logical id → binary name.
    fn functions(&self) -> BTreeMap<String, String> {
        self.of_type("AWS::Serverless::Function")
            .into_iter()
            .map(|(id, r)| {
                (id.to_string(), r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap_or("").to_string())
            })
            .collect()
    }

    fn function_by_binary(&self, binary: &str) -> Option<String> {
        self.functions().into_iter().find(|(_, b)| b == binary).map(|(id, _)| id)
    }
}

/// Every function the code defines: (binary, the call its `main` makes).
fn expected_functions() -> Vec<(String, String)> {
    let mut expected: Vec<(String, String)> =
        ROUTES.iter().map(|r| (r.name.to_string(), format!("run_route(\"{}\")", r.name))).collect();
    for p in Phase::ALL {
        expected.push((format!("phase-{}", p.as_str()), format!("run_phase(\"{}\")", p.as_str())));
    }
    for (name, _) in exomaps_api::ws::WS_ROUTES {
        expected.push((name.to_string(), format!("run_ws(\"{name}\")")));
    }
    expected.push(("sim-tick".to_string(), "run_sim_tick()".to_string()));
    expected.push((exomaps_lambda::PHASE_DLQ_FUNCTION.to_string(), "run_phase_dlq()".to_string()));
    expected.push((exomaps_api::migrate::FUNCTION.to_string(), "run_migrate()".to_string()));
    expected
}

fn problems(root: &Value) -> Vec<String> {
    let t = Template::new(root);
    let mut p = Vec::new();
    let functions = t.functions();

    // Every function once, and nothing else.
    let mut binaries: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, b) in &functions {
        binaries.entry(b.as_str()).or_default().push(id);
    }
    let expected: BTreeSet<String> = expected_functions().into_iter().map(|(n, _)| n).collect();
    for (b, ids) in &binaries {
        if ids.len() > 1 {
            p.push(format!("binary {b} is built by {ids:?}"));
        }
        if !expected.contains(*b) {
            p.push(format!("function for {b:?}, which the code does not define"));
        }
    }
    for name in &expected {
        if !binaries.contains_key(name.as_str()) {
            p.push(format!("no function for {name}"));
        }
    }
    for (id, r) in t.of_type("AWS::Serverless::Function") {
        if r["Metadata"]["BuildMethod"].as_str() != Some("rust-cargolambda") {
            p.push(format!("{id}: BuildMethod is not rust-cargolambda"));
        }
        if r["Properties"]["CodeUri"].as_str() != Some("../functions") {
            p.push(format!("{id}: CodeUri is not ../functions"));
        }
    }
    let globals = &root["Globals"]["Function"];
    if globals["Runtime"].as_str() != Some("provided.al2023") {
        p.push("Globals: Runtime is not provided.al2023".into());
    }
    if ref_of(&globals["Architectures"][0]) != Some("Architecture") {
        p.push("Globals: Architectures is not [!Ref Architecture]".into());
    }

    // HTTP routes: one Api event each, same method and path, on the RestApi.
    let mut declared = BTreeSet::new();
    for (id, r) in t.of_type("AWS::Serverless::Function") {
        let Some(events) = r["Properties"]["Events"].as_mapping() else { continue };
        for ev in events.values().filter(|e| e["Type"].as_str() == Some("Api")) {
            let props = &ev["Properties"];
            if ref_of(&props["RestApiId"]) != Some("RestApi") {
                p.push(format!("{id}: Api event not on the RestApi"));
            }
            let key = (
                functions[id].clone(),
                props["Method"].as_str().unwrap_or("").to_uppercase(),
                props["Path"].as_str().unwrap_or("").to_string(),
            );
            if !declared.insert(key.clone()) {
                p.push(format!("{key:?} declared twice"));
            }
        }
    }
    let routes: BTreeSet<(String, String, String)> =
        ROUTES.iter().map(|r| (r.name.to_string(), r.method.to_string(), r.path.to_string())).collect();
    for missing in routes.difference(&declared) {
        p.push(format!("route {missing:?} has no Api event"));
    }
    for extra in declared.difference(&routes) {
        p.push(format!("Api event {extra:?} is not in the route table"));
    }

    // Issue 15: API Gateway compresses the (cached, identity-encoded) JSON answers.
    if root["Resources"]["RestApi"]["Properties"]["MinimumCompressionSize"].as_u64().is_none() {
        p.push("RestApi: no MinimumCompressionSize (API Gateway compression off)".into());
    }

    // Pipeline: queue + DLQ + event source mapping + alarm per phase.
    let queue_named = |name: &str| {
        t.of_type("AWS::SQS::Queue")
            .into_iter()
            .find(|(_, r)| sub_of(&r["Properties"]["QueueName"]) == Some(name))
            .map(|(id, r)| (id.to_string(), r))
    };
    let timeouts = root["Mappings"]["PhaseTimeouts"].as_mapping().cloned().unwrap_or_default();
    if timeouts.is_empty() {
        p.push("Mappings/PhaseTimeouts is missing".into());
    }
    for (k, v) in &timeouts {
        let timeout: u64 = k.as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
        if v["QueueVisibility"].as_u64() != Some(6 * timeout) {
            p.push(format!("PhaseTimeouts {k:?}: visibility is not 6 x the timeout"));
        }
    }
    let esms = t.of_type("AWS::Lambda::EventSourceMapping");
    if esms.len() != 2 * Phase::ALL.len() + 1 {
        p.push(format!(
            "{} event source mappings for {} phases and their DLQs + the sim-tick queue",
            esms.len(),
            Phase::ALL.len()
        ));
    }
    let dlq_fn = t.function_by_binary(exomaps_lambda::PHASE_DLQ_FUNCTION);
    if dlq_fn.is_none() {
        p.push("no phase-dlq function (the dead-letter consumer)".into());
    }
    sim_tick_problems(root, &t, &mut p);
    for phase in Phase::ALL {
        let ph = phase.as_str();
        let Some((qid, q)) = queue_named(&format!("${{AWS::StackName}}-pipeline-{ph}")) else {
            p.push(format!("no queue for phase {ph}"));
            continue;
        };
        let Some((dlq_id, _)) = queue_named(&format!("${{AWS::StackName}}-pipeline-{ph}-dlq")) else {
            p.push(format!("no dead-letter queue for phase {ph}"));
            continue;
        };
        let props = &q["Properties"];
        let redrive = &props["RedrivePolicy"];
        if getatt_of(&redrive["deadLetterTargetArn"]) != Some((dlq_id.clone(), "Arn".into())) {
            p.push(format!("{qid}: redrive does not target {dlq_id}"));
        }
        if redrive["maxReceiveCount"].as_u64() != Some(5) {
            p.push(format!("{qid}: maxReceiveCount is not 5"));
        }
        let vis = intrinsic(&props["VisibilityTimeout"], "FindInMap").and_then(|v| v.as_sequence());
        let vis_ok = vis.is_some_and(|s| {
            s.len() == 3 && s[0].as_str() == Some("PhaseTimeouts") && ref_of(&s[1]) == Some("PhaseTimeout")
        });
        if !vis_ok {
            p.push(format!("{qid}: VisibilityTimeout is not !FindInMap [PhaseTimeouts, !Ref PhaseTimeout, ...]"));
        }
        let Some(fid) = t.function_by_binary(&format!("phase-{ph}")) else { continue };
        let f = &t.resources[&fid]["Properties"];
        if ref_of(&f["Timeout"]) != Some("PhaseTimeout") {
            p.push(format!("{fid}: Timeout is not !Ref PhaseTimeout"));
        }
        let env = &f["Environment"]["Variables"];
        for other in Phase::ALL {
            let key = format!("EXOMAPS_QUEUE_{}_URL", other.as_str().to_uppercase());
            let want = queue_named(&format!("${{AWS::StackName}}-pipeline-{}", other.as_str())).map(|(id, _)| id);
            if ref_of(&env[key.as_str()]).map(str::to_string) != want {
                p.push(format!("{fid}: {key} is not the {} queue", other.as_str()));
            }
        }
        for key in ["EXOMAPS_WS_ENDPOINT", "EXOMAPS_SPA_BUCKET"] {
            if env[key].is_null() {
                p.push(format!("{fid}: no {key}"));
            }
        }
        let mine: Vec<_> = esms
            .iter()
            .filter(|(_, e)| getatt_of(&e["Properties"]["EventSourceArn"]) == Some((qid.clone(), "Arn".into())))
            .collect();
        match mine.as_slice() {
            [(eid, e)] => {
                let props = &e["Properties"];
                if ref_of(&props["FunctionName"]) != Some(fid.as_str()) {
                    p.push(format!("{eid}: the {ph} queue does not feed {fid}"));
                }
                let types = props["FunctionResponseTypes"].as_sequence().cloned().unwrap_or_default();
                if !types.iter().any(|v| v.as_str() == Some("ReportBatchItemFailures")) {
                    p.push(format!("{eid}: no ReportBatchItemFailures"));
                }
            }
            other => p.push(format!("{} event source mappings on the {ph} queue", other.len())),
        }
        // Issue 9: the DLQ feeds the dead-letter consumer (a dead-lettered message fails its run).
        let on_dlq: Vec<_> = esms
            .iter()
            .filter(|(_, e)| getatt_of(&e["Properties"]["EventSourceArn"]) == Some((dlq_id.clone(), "Arn".into())))
            .collect();
        match on_dlq.as_slice() {
            [(eid, e)] => {
                if ref_of(&e["Properties"]["FunctionName"]).map(str::to_string) != dlq_fn {
                    p.push(format!("{eid}: the {ph} DLQ does not feed the phase-dlq function"));
                }
                let types = e["Properties"]["FunctionResponseTypes"].as_sequence().cloned().unwrap_or_default();
                if !types.iter().any(|v| v.as_str() == Some("ReportBatchItemFailures")) {
                    p.push(format!("{eid}: no ReportBatchItemFailures"));
                }
            }
            other => p.push(format!("{} event source mappings on the {ph} DLQ", other.len())),
        }
        if !alarm_on(&t, "AWS/SQS", "QueueName", |v| getatt_of(v) == Some((dlq_id.clone(), "QueueName".into()))) {
            p.push(format!("no alarm on {dlq_id}"));
        }
        for q in [&qid, &dlq_id] {
            if !output_refs(root, q) {
                p.push(format!("no output for {q}"));
            }
        }
    }

    // WebSocket: route key → integration → function, with an invoke permission.
    let ws_routes = t.of_type("AWS::ApiGatewayV2::Route");
    if ws_routes.len() != exomaps_api::ws::WS_ROUTES.len() {
        p.push(format!("{} WebSocket routes for {}", ws_routes.len(), exomaps_api::ws::WS_ROUTES.len()));
    }
    for (name, key) in exomaps_api::ws::WS_ROUTES {
        let Some(fid) = t.function_by_binary(name) else { continue };
        let route = ws_routes.iter().find(|(_, r)| r["Properties"]["RouteKey"].as_str() == Some(key));
        let Some((rid, r)) = route else {
            p.push(format!("no WebSocket route {key}"));
            continue;
        };
        let target = sub_of(&r["Properties"]["Target"]).unwrap_or("");
        let integration = target.strip_prefix("integrations/${").and_then(|s| s.strip_suffix('}')).unwrap_or("");
        let uri = t.resources.get(integration).and_then(|i| sub_of(&i["Properties"]["IntegrationUri"]));
        if !uri.is_some_and(|u| u.contains(&format!("${{{fid}.Arn}}"))) {
            p.push(format!("{rid} ({key}) does not reach {fid}"));
        }
        let permitted = t.of_type("AWS::Lambda::Permission").iter().any(|(_, perm)| {
            ref_of(&perm["Properties"]["FunctionName"]) == Some(fid.as_str())
                && perm["Properties"]["Principal"].as_str() == Some("apigateway.amazonaws.com")
        });
        if !permitted {
            p.push(format!("API Gateway may not invoke {fid}"));
        }
    }
    if !t.of_type("AWS::ApiGatewayV2::Deployment").is_empty() {
        p.push("AWS::ApiGatewayV2::Deployment (ministack has none: use a Stage with AutoDeploy)".into());
    }
    let stages = t.of_type("AWS::ApiGatewayV2::Stage");
    if stages.len() != 1 || stages[0].1["Properties"]["AutoDeploy"].as_bool() != Some(true) {
        p.push("the WebSocket API needs one Stage with AutoDeploy: true".into());
    }

    // Every function has an errors alarm.
    for id in functions.keys() {
        if !alarm_on(&t, "AWS/Lambda", "FunctionName", |v| ref_of(v) == Some(id.as_str())) {
            p.push(format!("no errors alarm on {id}"));
        }
    }
    // The functions' own metrics (EMF, namespace ExoMaps, see exomaps_platform::metrics) are
    // watched: server errors and latency of the routes, failures of the phases.
    for (kind, metric) in [("route", "ServerErrors"), ("route", "Latency"), ("phase", "PhaseFailures")] {
        let watched = t.of_type("AWS::CloudWatch::Alarm").iter().any(|(_, a)| {
            let props = &a["Properties"];
            props["MetricName"].as_str() == Some(metric)
                && props["Namespace"].as_str() == Some("ExoMaps")
                && props["Dimensions"].as_sequence().is_some_and(|ds| {
                    ds.iter().any(|d| d["Name"].as_str() == Some("Kind") && d["Value"].as_str() == Some(kind))
                })
                && props["AlarmActions"].as_sequence().is_some_and(|a| !a.is_empty())
        });
        if !watched {
            p.push(format!("no alarm on the ExoMaps metric {metric} of kind {kind}"));
        }
    }

    // Secrets by id (ARN), the endpoint only through the Emulated condition.
    let env = &globals["Environment"]["Variables"];
    if getatt_of(&env["EXOMAPS_JWT_SECRET_ID"]) != Some(("JwtSecret".into(), "Id".into())) {
        p.push("Globals: EXOMAPS_JWT_SECRET_ID is not !GetAtt JwtSecret.Id".into());
    }
    if env["EXOMAPS_DB_SECRET_ID"].is_null() {
        p.push("Globals: no EXOMAPS_DB_SECRET_ID".into());
    }
    let endpoint_ok = intrinsic(&env["AWS_ENDPOINT_URL"], "If")
        .and_then(|v| v.as_sequence())
        .is_some_and(|s| s.len() == 3 && s[0].as_str() == Some("Emulated") && ref_of(&s[2]) == Some("AWS::NoValue"));
    if !endpoint_ok {
        p.push("Globals: AWS_ENDPOINT_URL must be !If [Emulated, ..., !Ref AWS::NoValue]".into());
    }
    let secrets: BTreeSet<&str> = t.of_type("AWS::SecretsManager::Secret").into_iter().map(|(id, _)| id).collect();
    let mut nodes = Vec::new();
    walk(&root["Resources"], &mut nodes);
    walk(&root["Globals"], &mut nodes);
    walk(&root["Outputs"], &mut nodes);
    for n in nodes {
        if let Some(r) = ref_of(n)
            && secrets.contains(r)
        {
            p.push(format!("!Ref {r}: a secret's id is !GetAtt {r}.Id (ministack's !Ref is its name)"));
        }
    }
    let runs_start = t.function_by_binary("runs-start").unwrap_or_default();
    let env = &t.resources.get(&runs_start).map(|r| &r["Properties"]["Environment"]["Variables"]);
    if env.is_none_or(|e| ref_of(&e["EXOMAPS_QUEUE_INGEST_URL"]).is_none()) {
        p.push("runs-start has no EXOMAPS_QUEUE_INGEST_URL".into());
    }
    for out in ["ApiUrl", "WebSocketUrl", "WebSocketManagementEndpoint", "SiteUrl", "SpaBucketName"] {
        if root["Outputs"][out].is_null() {
            p.push(format!("no output {out}"));
        }
    }
    p.extend(deploy_problems(root, &t));
    p
}

/// The simulation tick queue: FIFO with a FIFO DLQ, fed to `sim-tick` only, sent to only by
/// `sim-tick` (the chain) and `sim-resume` (its first message).
fn sim_tick_problems(root: &Value, t: &Template, p: &mut Vec<String>) {
    let queue_named = |name: &str| {
        t.of_type("AWS::SQS::Queue")
            .into_iter()
            .find(|(_, r)| sub_of(&r["Properties"]["QueueName"]) == Some(name))
            .map(|(id, r)| (id.to_string(), r))
    };
    let Some((qid, q)) = queue_named("${AWS::StackName}-sim-tick.fifo") else {
        p.push("no sim-tick FIFO queue".into());
        return;
    };
    let Some((dlq_id, dlq)) = queue_named("${AWS::StackName}-sim-tick-dlq.fifo") else {
        p.push("no sim-tick dead-letter queue".into());
        return;
    };
    for (id, r) in [(&qid, q), (&dlq_id, dlq)] {
        if r["Properties"]["FifoQueue"].as_bool() != Some(true) {
            p.push(format!("{id}: not a FIFO queue"));
        }
        if !output_refs(root, id) {
            p.push(format!("no output for {id}"));
        }
    }
    let props = &q["Properties"];
    if props["ContentBasedDeduplication"].as_bool() == Some(true) {
        p.push(format!("{qid}: deduplication must come from the sender's id (simulation + epoch + tick)"));
    }
    if getatt_of(&props["RedrivePolicy"]["deadLetterTargetArn"]) != Some((dlq_id.clone(), "Arn".into())) {
        p.push(format!("{qid}: redrive does not target {dlq_id}"));
    }
    if props["RedrivePolicy"]["maxReceiveCount"].as_u64() != Some(5) {
        p.push(format!("{qid}: maxReceiveCount is not 5"));
    }
    let Some(fid) = t.function_by_binary("sim-tick") else { return };
    let f = &t.resources[&fid]["Properties"];
    let timeout = f["Timeout"].as_u64().unwrap_or(0);
    if timeout == 0 || timeout > 30 {
        p.push(format!("{fid}: Timeout must be 1..=30 s (one batch and its commit within 30 s)"));
    }
    if props["VisibilityTimeout"].as_u64() != Some(6 * timeout) {
        p.push(format!("{qid}: VisibilityTimeout is not 6 x the sim-tick timeout"));
    }
    let env = &f["Environment"]["Variables"];
    if ref_of(&env["EXOMAPS_QUEUE_SIM_TICK_URL"]) != Some(qid.as_str()) {
        p.push(format!("{fid}: EXOMAPS_QUEUE_SIM_TICK_URL is not the sim-tick queue"));
    }
    if env["EXOMAPS_WS_ENDPOINT"].is_null() {
        p.push(format!("{fid}: no EXOMAPS_WS_ENDPOINT"));
    }
    let esms = t.of_type("AWS::Lambda::EventSourceMapping");
    let mine: Vec<_> = esms
        .iter()
        .filter(|(_, e)| getatt_of(&e["Properties"]["EventSourceArn"]) == Some((qid.clone(), "Arn".into())))
        .collect();
    match mine.as_slice() {
        [(eid, e)] => {
            if ref_of(&e["Properties"]["FunctionName"]) != Some(fid.as_str()) {
                p.push(format!("{eid}: the sim-tick queue does not feed {fid}"));
            }
            let types = e["Properties"]["FunctionResponseTypes"].as_sequence().cloned().unwrap_or_default();
            if !types.iter().any(|v| v.as_str() == Some("ReportBatchItemFailures")) {
                p.push(format!("{eid}: no ReportBatchItemFailures"));
            }
        }
        other => p.push(format!("{} event source mappings on the sim-tick queue", other.len())),
    }
    if !alarm_on(t, "AWS/SQS", "QueueName", |v| getatt_of(v) == Some((dlq_id.clone(), "QueueName".into()))) {
        p.push(format!("no alarm on {dlq_id}"));
    }
    // Least privilege: who may poll and who may send.
    for (id, r) in t.of_type("AWS::Serverless::Function") {
        let policies = r["Properties"]["Policies"].as_sequence().cloned().unwrap_or_default();
        let names = |kind: &str| -> bool {
            policies.iter().any(|pol| getatt_of(&pol[kind]["QueueName"]) == Some((qid.clone(), "QueueName".into())))
        };
        let binary = t.functions()[id].clone();
        if names("SQSPollerPolicy") && binary != "sim-tick" {
            p.push(format!("{id} may poll the sim-tick queue"));
        }
        let sends = names("SQSSendMessagePolicy");
        let should_send = binary == "sim-tick" || binary == "sim-resume";
        if sends != should_send {
            p.push(format!("{id}: SQSSendMessagePolicy on the sim-tick queue is {sends}, should be {should_send}"));
        }
        if binary == "sim-resume"
            && ref_of(&r["Properties"]["Environment"]["Variables"]["EXOMAPS_QUEUE_SIM_TICK_URL"]) != Some(qid.as_str())
        {
            p.push(format!("{id}: no EXOMAPS_QUEUE_SIM_TICK_URL"));
        }
        if binary == "sim-tick" && !names("SQSPollerPolicy") {
            p.push(format!("{id} may not poll the sim-tick queue"));
        }
    }
}

fn if_of(v: &Value) -> Option<(&str, &Value, &Value)> {
    let s = intrinsic(v, "If")?.as_sequence()?;
    (s.len() == 3).then(|| (s[0].as_str().unwrap_or(""), &s[1], &s[2]))
}

/// Issue 14: migrations on deploy, the created database (VPC, Aurora, proxy), the schedule.
fn deploy_problems(root: &Value, t: &Template) -> Vec<String> {
    let mut p = Vec::new();
    // Migrations: a custom resource run by the migrate function's published version.
    match t.function_by_binary(exomaps_api::migrate::FUNCTION) {
        None => {}
        Some(fid) => {
            let f = &t.resources[&fid]["Properties"];
            if f["AutoPublishAlias"].as_str().is_none() {
                p.push(format!("{fid}: no AutoPublishAlias (its Version is what reruns the migrations)"));
            }
            let crs = t.of_type("Custom::Migrations");
            let want = format!("{fid}.Version");
            match crs.as_slice() {
                [(cid, cr)] => {
                    if ref_of(&cr["Properties"]["ServiceToken"]) != Some(want.as_str()) {
                        p.push(format!("{cid}: ServiceToken is not !Ref {want}"));
                    }
                }
                other => p.push(format!("{} Custom::Migrations resources (want 1)", other.len())),
            }
        }
    }

    // DatabaseMode create.
    let conditions = &root["Conditions"];
    if conditions["CreateDatabase"].is_null() {
        p.push("no CreateDatabase condition".into());
    }
    let created_types = [
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::VPCEndpoint",
        "AWS::RDS::DBSubnetGroup",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBProxy",
        "AWS::RDS::DBProxyTargetGroup",
        "AWS::SecretsManager::SecretTargetAttachment",
    ];
    for ty in created_types {
        for (id, r) in t.of_type(ty) {
            if r["Condition"].as_str() != Some("CreateDatabase") {
                p.push(format!("{id} ({ty}) is not on the CreateDatabase condition"));
            }
        }
    }
    for ty in ["AWS::RDS::DBCluster", "AWS::RDS::DBProxy", "AWS::RDS::DBProxyTargetGroup", "AWS::EC2::VPC"] {
        if t.of_type(ty).len() != 1 {
            p.push(format!("{} {ty} resources (want 1)", t.of_type(ty).len()));
        }
    }
    for ty in ["AWS::EC2::NatGateway", "AWS::EC2::InternetGateway"] {
        if !t.of_type(ty).is_empty() {
            p.push(format!("{ty}: the private subnets reach AWS through VPC endpoints only"));
        }
    }
    if let Some((_, cluster)) = t.of_type("AWS::RDS::DBCluster").first() {
        let props = &cluster["Properties"];
        if props["Engine"].as_str() != Some("aurora-postgresql") {
            p.push("the cluster is not aurora-postgresql".into());
        }
        let min = ref_of(&props["ServerlessV2ScalingConfiguration"]["MinCapacity"]).unwrap_or("");
        let allowed = root["Parameters"][min]["AllowedValues"].as_sequence().cloned().unwrap_or_default();
        if !allowed.iter().any(|v| v.as_f64() == Some(0.0)) {
            p.push("Aurora Serverless v2 MinCapacity cannot be 0 (the engine's lowest)".into());
        }
    }
    if let Some((_, proxy)) = t.of_type("AWS::RDS::DBProxy").first()
        && proxy["Properties"]["EngineFamily"].as_str() != Some("POSTGRESQL")
    {
        p.push("the RDS Proxy is not POSTGRESQL".into());
    }
    let endpoints: Vec<(String, String)> = t
        .of_type("AWS::EC2::VPCEndpoint")
        .iter()
        .map(|(_, e)| {
            let name =
                sub_of(&e["Properties"]["ServiceName"]).unwrap_or("").rsplit('.').next().unwrap_or("").to_string();
            (name, e["Properties"]["VpcEndpointType"].as_str().unwrap_or("").to_string())
        })
        .collect();
    for (service, kind) in
        [("sqs", "Interface"), ("secretsmanager", "Interface"), ("execute-api", "Interface"), ("s3", "Gateway")]
    {
        if !endpoints.contains(&(service.to_string(), kind.to_string())) {
            p.push(format!("no {kind} VPC endpoint for {service}"));
        }
    }
    // Least privilege: the proxy admits only the functions, the cluster only the proxy; no
    // security group takes traffic from an address range.
    let sg_of = |id: &str| t.resources.get(id).map(|r| &r["Properties"]);
    let sources = |sg: &str| -> Vec<String> {
        let mut v: Vec<String> = sg_of(sg)
            .and_then(|p| p["SecurityGroupIngress"].as_sequence())
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| {
                        ref_of(&r["SourceSecurityGroupId"]).map_or_else(|| "an address range".into(), str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (_, r) in t.of_type("AWS::EC2::SecurityGroupIngress") {
            if ref_of(&r["Properties"]["GroupId"]) == Some(sg) {
                v.push(ref_of(&r["Properties"]["SourceSecurityGroupId"]).unwrap_or("an address range").to_string());
            }
        }
        v
    };
    let proxy_sg = t
        .of_type("AWS::RDS::DBProxy")
        .first()
        .and_then(|(_, r)| r["Properties"]["VpcSecurityGroupIds"][0].clone().pipe_ref())
        .unwrap_or_default();
    let cluster_sg = t
        .of_type("AWS::RDS::DBCluster")
        .first()
        .and_then(|(_, r)| r["Properties"]["VpcSecurityGroupIds"][0].clone().pipe_ref())
        .unwrap_or_default();
    let vpc = &root["Globals"]["Function"]["VpcConfig"];
    let function_sg = match if_of(vpc) {
        Some(("CreateDatabase", on, off)) if ref_of(off) == Some("AWS::NoValue") => {
            ref_of(&on["SecurityGroupIds"][0]).unwrap_or("").to_string()
        }
        _ => {
            p.push("Globals: VpcConfig must be !If [CreateDatabase, {...}, !Ref AWS::NoValue]".into());
            String::new()
        }
    };
    if sources(&proxy_sg) != [function_sg.clone()] {
        p.push(format!(
            "the proxy's security group {proxy_sg} admits {:?}, not only the functions",
            sources(&proxy_sg)
        ));
    }
    if sources(&cluster_sg) != [proxy_sg.clone()] {
        p.push(format!(
            "the cluster's security group {cluster_sg} admits {:?}, not only the proxy",
            sources(&cluster_sg)
        ));
    }
    if !sources(&function_sg).is_empty() {
        p.push("the functions' security group admits inbound traffic".into());
    }
    let host = &root["Globals"]["Function"]["Environment"]["Variables"]["EXOMAPS_DB_HOST"];
    let host_ok = if_of(host).is_some_and(|(c, on, off)| {
        c == "CreateDatabase"
            && getatt_of(on) == Some(("DatabaseProxy".into(), "Endpoint".into()))
            && ref_of(off) == Some("AWS::NoValue")
    });
    if !host_ok {
        p.push("Globals: EXOMAPS_DB_HOST must be the proxy endpoint under CreateDatabase".into());
    }

    // The schedule: EventBridge Scheduler → the ingest queue, off unless ScheduleEnabled.
    let ingest_q = t
        .of_type("AWS::SQS::Queue")
        .into_iter()
        .find(|(_, r)| sub_of(&r["Properties"]["QueueName"]) == Some("${AWS::StackName}-pipeline-ingest"))
        .map(|(id, _)| id.to_string())
        .unwrap_or_default();
    match t.of_type("AWS::Scheduler::Schedule").as_slice() {
        [(sid, sch)] => {
            let props = &sch["Properties"];
            if getatt_of(&props["Target"]["Arn"]) != Some((ingest_q.clone(), "Arn".into())) {
                p.push(format!("{sid}: the target is not the ingest queue"));
            }
            if !if_of(&props["State"]).is_some_and(|(c, on, off)| {
                c == "ScheduleOn" && on.as_str() == Some("ENABLED") && off.as_str() == Some("DISABLED")
            }) {
                p.push(format!("{sid}: State must be !If [ScheduleOn, ENABLED, DISABLED]"));
            }
            if root["Parameters"]["ScheduleEnabled"]["Default"].as_str() != Some("false") {
                p.push("ScheduleEnabled must default to false (off by default)".into());
            }
            let role = getatt_of(&props["Target"]["RoleArn"]).map(|(r, _)| r).unwrap_or_default();
            let sends = t.resources.get(&role).is_some_and(|r| {
                let mut nodes = Vec::new();
                walk(&r["Properties"]["Policies"], &mut nodes);
                nodes.iter().any(|n| getatt_of(n) == Some((ingest_q.clone(), "Arn".into())))
                    && nodes.iter().any(|n| n.as_str() == Some("sqs:SendMessage"))
            });
            if !sends {
                p.push(format!("{sid}: its role {role:?} may not send to the ingest queue"));
            }
        }
        other => p.push(format!("{} schedules (want 1)", other.len())),
    }
    p
}

trait PipeRef {
    fn pipe_ref(self) -> Option<String>;
}

impl PipeRef for Value {
    /// `!Ref X` as X.
    fn pipe_ref(self) -> Option<String> {
        ref_of(&self).map(str::to_string)
    }
}

/// An alarm on `namespace` whose dimension `dimension` satisfies `matches`.
fn alarm_on(t: &Template, namespace: &str, dimension: &str, matches: impl Fn(&Value) -> bool) -> bool {
    t.of_type("AWS::CloudWatch::Alarm").iter().any(|(_, a)| {
        let props = &a["Properties"];
        props["Namespace"].as_str() == Some(namespace)
            && props["Dimensions"]
                .as_sequence()
                .is_some_and(|ds| ds.iter().any(|d| d["Name"].as_str() == Some(dimension) && matches(&d["Value"])))
            && props["AlarmActions"].as_sequence().is_some_and(|a| !a.is_empty())
    })
}

fn output_refs(root: &Value, id: &str) -> bool {
    root["Outputs"].as_mapping().is_some_and(|m| m.values().any(|o| ref_of(&o["Value"]) == Some(id)))
}

#[test]
fn code_and_template_agree() {
    let root = template();
    let p = problems(&root);
    assert!(p.is_empty(), "infra/template.yaml disagrees with the code:\n  {}", p.join("\n  "));
}

#[test]
fn every_function_has_one_binary_calling_its_entry_point() {
    let bins: BTreeSet<String> = std::fs::read_dir(repo().join("functions/src/bin"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected = expected_functions();
    let names: BTreeSet<String> = expected.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(bins, names, "functions/src/bin and the function tables disagree");
    for (name, call) in &expected {
        let src = std::fs::read_to_string(repo().join(format!("functions/src/bin/{name}.rs"))).unwrap();
        assert!(src.contains(call.as_str()), "{name}.rs does not call {call}");
    }
}

/// Removes resource `id` (and returns the mutated template's problems).
fn without(id: &str) -> Vec<String> {
    let mut root = template();
    root["Resources"].as_mapping_mut().unwrap().remove(id).unwrap_or_else(|| panic!("no resource {id}"));
    problems(&root)
}

fn edited(path: &[&str], value: Value) -> Vec<String> {
    let mut root = template();
    let mut node = &mut root;
    for key in path {
        node = node.get_mut(*key).unwrap_or_else(|| panic!("no {key} in {path:?}"));
    }
    *node = value;
    problems(&root)
}

fn mentions(problems: &[String], text: &str) -> bool {
    problems.iter().any(|p| p.contains(text))
}

#[test]
fn the_checks_catch_a_broken_template() {
    let p = without("AdminUsersFunction");
    assert!(mentions(&p, "no function for admin-users"), "{p:?}");
    assert!(mentions(&p, "\"admin-users\", \"GET\", \"/api/admin/users\""), "{p:?}");

    let p = without("PhaseInferEventSource");
    assert!(mentions(&p, "0 event source mappings on the infer queue"), "{p:?}");

    let p = without("PhaseTransformDeadLetterEventSource");
    assert!(mentions(&p, "0 event source mappings on the transform DLQ"), "{p:?}");
    let p = without("PhaseDlqFunction");
    assert!(mentions(&p, "no phase-dlq function"), "{p:?}");
    let p = without("PhasePublishDeadLetterQueue");
    assert!(mentions(&p, "no dead-letter queue for phase publish"), "{p:?}");

    let p = without("WsDefaultRoute");
    assert!(mentions(&p, "no WebSocket route $default"), "{p:?}");

    let p = without("PhaseIngestDeadLetterAlarm");
    assert!(mentions(&p, "no alarm on PhaseIngestDeadLetterQueue"), "{p:?}");

    let p = without("HealthErrorsAlarm");
    assert!(mentions(&p, "no errors alarm on HealthFunction"), "{p:?}");

    let p = without("PhaseFailuresAlarm");
    assert!(mentions(&p, "no alarm on the ExoMaps metric PhaseFailures of kind phase"), "{p:?}");
    let p = edited(&["Resources", "RouteLatencyAlarm", "Properties", "Namespace"], "AWS/Lambda".into());
    assert!(mentions(&p, "no alarm on the ExoMaps metric Latency of kind route"), "{p:?}");

    let p = edited(&["Resources", "PhaseTransformQueue", "Properties", "RedrivePolicy", "maxReceiveCount"], 9.into());
    assert!(mentions(&p, "PhaseTransformQueue: maxReceiveCount is not 5"), "{p:?}");

    let p = edited(&["Resources", "RestApi", "Properties", "MinimumCompressionSize"], Value::Null);
    assert!(mentions(&p, "no MinimumCompressionSize"), "{p:?}");

    let p = edited(&["Mappings", "PhaseTimeouts", "300", "QueueVisibility"], 300.into());
    assert!(mentions(&p, "visibility is not 6 x the timeout"), "{p:?}");

    let p =
        edited(&["Resources", "HealthFunction", "Properties", "Events", "Http", "Properties", "Method"], "POST".into());
    assert!(mentions(&p, "route (\"health\", \"GET\", \"/api/health\") has no Api event"), "{p:?}");

    let secret_ref: Value = serde_yaml::from_str("!Ref JwtSecret").unwrap();
    let p = edited(&["Globals", "Function", "Environment", "Variables", "EXOMAPS_JWT_SECRET_ID"], secret_ref);
    assert!(mentions(&p, "!Ref JwtSecret"), "{p:?}");

    let p = edited(&["Globals", "Function", "Environment", "Variables", "AWS_ENDPOINT_URL"], "http://x:1".into());
    assert!(mentions(&p, "AWS_ENDPOINT_URL"), "{p:?}");

    let p = without("SimTickEventSource");
    assert!(mentions(&p, "0 event source mappings on the sim-tick queue"), "{p:?}");
    let p = edited(&["Resources", "SimTickQueue", "Properties", "FifoQueue"], Value::Bool(false));
    assert!(mentions(&p, "SimTickQueue: not a FIFO queue"), "{p:?}");
    let p = edited(&["Resources", "SimTickQueue", "Properties", "VisibilityTimeout"], 30.into());
    assert!(mentions(&p, "VisibilityTimeout is not 6 x the sim-tick timeout"), "{p:?}");
    let p = without("SimTickDeadLetterAlarm");
    assert!(mentions(&p, "no alarm on SimTickDeadLetterQueue"), "{p:?}");
    let p = edited(&["Resources", "SimResumeFunction", "Properties", "Policies"], Value::Sequence(vec![]));
    assert!(mentions(&p, "SimResumeFunction: SQSSendMessagePolicy on the sim-tick queue is false"), "{p:?}");

    let p = without("Migrations");
    assert!(mentions(&p, "0 Custom::Migrations resources"), "{p:?}");

    let p = edited(
        &["Resources", "Migrations", "Properties", "ServiceToken"],
        serde_yaml::from_str("!GetAtt MigrateFunction.Arn").unwrap(),
    );
    assert!(mentions(&p, "ServiceToken is not !Ref MigrateFunction.Version"), "{p:?}");

    let p = edited(&["Resources", "DatabaseCluster", "Condition"], Value::Null);
    assert!(mentions(&p, "DatabaseCluster (AWS::RDS::DBCluster) is not on the CreateDatabase condition"), "{p:?}");

    let wide: Value =
        serde_yaml::from_str("[{IpProtocol: tcp, FromPort: 5432, ToPort: 5432, CidrIp: 10.0.0.0/8}]").unwrap();
    let p = edited(&["Resources", "DatabaseSecurityGroup", "Properties", "SecurityGroupIngress"], wide);
    assert!(mentions(&p, "admits [\"an address range\"], not only the proxy"), "{p:?}");

    let p = without("SecretsManagerEndpoint");
    assert!(mentions(&p, "no Interface VPC endpoint for secretsmanager"), "{p:?}");

    let p = edited(&["Resources", "IngestSchedule", "Properties", "State"], "ENABLED".into());
    assert!(mentions(&p, "State must be !If [ScheduleOn, ENABLED, DISABLED]"), "{p:?}");

    let p = edited(
        &["Resources", "IngestSchedule", "Properties", "Target", "Arn"],
        serde_yaml::from_str("!GetAtt PhaseInferQueue.Arn").unwrap(),
    );
    assert!(mentions(&p, "the target is not the ingest queue"), "{p:?}");

    let p = edited(&["Resources", "PhaseCanonicaliseFunction", "Properties", "Environment", "Variables"], Value::Null);
    assert!(mentions(&p, "PhaseCanonicaliseFunction: EXOMAPS_QUEUE_TRANSFORM_URL is not the transform queue"), "{p:?}");
}
