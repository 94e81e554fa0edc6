//! The route table, the function binaries and the SAM template agree: every route has one
//! binary and one template function with the same method and path, and nothing else exists.

use exomaps_api::ROUTES;
use std::collections::BTreeSet;
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// (binary, method, path) of every function resource with an Api event in the template.
/// A line-based reader: the template's function blocks have a fixed shape (checked here too).
fn template_functions(text: &str) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    let (mut binary, mut path) = (None::<String>, None::<String>);
    for line in text.lines() {
        let t = line.trim();
        if line.starts_with("  ") && !line.starts_with("   ") && t.ends_with(':') {
            binary = None;
            path = None;
        } else if let Some(b) = t.strip_prefix("Binary:") {
            binary = Some(b.trim().to_string());
        } else if let Some(p) = t.strip_prefix("Path:") {
            path = Some(p.trim().to_string());
        } else if let Some(m) = t.strip_prefix("Method:") {
            let b = binary.clone().expect("Method: after a Binary: in the same function block");
            let p = path.take().expect("Method: after a Path:");
            assert!(out.insert((b.clone(), m.trim().to_uppercase(), p)), "{b} declared twice");
        }
    }
    out
}

#[test]
fn route_table_binaries_and_template_agree() {
    let routes: BTreeSet<(String, String, String)> =
        ROUTES.iter().map(|r| (r.name.to_string(), r.method.to_string(), r.path.to_string())).collect();

    let template = std::fs::read_to_string(repo().join("infra/template.yaml")).unwrap();
    let declared = template_functions(&template);
    assert_eq!(declared, routes, "infra/template.yaml and the route table disagree");

    let bins: BTreeSet<String> = std::fs::read_dir(repo().join("functions/src/bin"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    // One binary per HTTP route, per pipeline phase and per WebSocket route — and nothing else.
    let mut expected: Vec<(String, String)> =
        ROUTES.iter().map(|r| (r.name.to_string(), format!("run_route(\"{}\")", r.name))).collect();
    for p in exomaps_pipeline::chain::Phase::ALL {
        expected.push((format!("phase-{}", p.as_str()), format!("run_phase(\"{}\")", p.as_str())));
    }
    for (name, _) in exomaps_api::ws::WS_ROUTES {
        expected.push((name.to_string(), format!("run_ws(\"{name}\")")));
    }
    let names: BTreeSet<String> = expected.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(bins, names, "functions/src/bin and the function tables disagree");
    for (name, call) in &expected {
        let src = std::fs::read_to_string(repo().join(format!("functions/src/bin/{name}.rs"))).unwrap();
        assert!(src.contains(call.as_str()), "{name}.rs does not call {call}");
    }
}

#[test]
fn the_reader_sees_a_missing_function() {
    let text = "Resources:\n  A:\n    Metadata:\n      BuildProperties:\n        Binary: a\n    Properties:\n      Events:\n        Http:\n          Properties:\n            Path: /api/a\n            Method: get\n  B:\n    Type: X\n";
    let got = template_functions(text);
    assert_eq!(got.len(), 1);
    assert!(got.contains(&("a".into(), "GET".into(), "/api/a".into())));
}
