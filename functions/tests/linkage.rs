//! What each kind of function links (issue 13): the SQS-triggered functions (phases, the
//! dead-letter consumer, the simulation tick) build their context from the database
//! configuration alone, so their binaries contain no code of the HTTP API — no `exomaps_api`,
//! no argon2 (passwords), no jsonwebtoken (access tokens), no utoipa (OpenAPI). Route functions
//! do link them (the positive control: the check can see them).
//!
//! The binaries are the ones cargo built for this test (unstripped). The linker drops
//! unreachable code (`--gc-sections`), so a crate's name in a symbol (mangled as `<length><name>`,
//! e.g. `_ZN6argon2…`) means code of it is reachable from that function's `main`. The bare crate
//! name is no evidence: the symbol table keeps the name of every object file handed to the
//! linker (`argon2.<hash>-cgu.0`) even when none of its code is kept. `./dev bootstrap-sizes`
//! makes the same check on the stripped release bootstraps (through panic-location paths).

use memchr::memmem;

/// Crate names as they appear in mangled symbols (`_ZN6argon2…`, `…12jsonwebtoken…`).
const API_ONLY: [&str; 4] = ["11exomaps_api", "6argon2", "12jsonwebtoken", "6utoipa"];

fn binary(name: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_BIN_EXE_health")).parent().unwrap();
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Which of `API_ONLY` the binary of `name` contains.
fn linked(name: &str) -> Vec<&'static str> {
    let bytes = binary(name);
    API_ONLY.into_iter().filter(|c| memmem::find(&bytes, c.as_bytes()).is_some()).collect()
}

#[test]
fn route_functions_link_the_api_and_the_check_sees_it() {
    assert_eq!(linked("auth-login"), API_ONLY, "a route function links the whole API");
    assert_eq!(linked("openapi"), API_ONLY);
    // The migrate function seeds the first administrator (argon2id) through exomaps-api.
    assert_eq!(linked("migrate"), ["11exomaps_api", "6argon2"]);
}

#[test]
fn sqs_functions_link_nothing_of_the_http_api() {
    for name in [
        "phase-ingest",
        "phase-canonicalise",
        "phase-transform",
        "phase-infer",
        "phase-publish",
        "phase-dlq",
        "sim-tick",
    ] {
        assert_eq!(linked(name), Vec::<&str>::new(), "{name} links code of the HTTP API");
    }
}
