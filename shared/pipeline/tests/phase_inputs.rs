//! The invariant "no phase after canonicalise decodes a canonical record" (ARCHITECTURE.md,
//! issue 15 item 2): no file of the pipeline calls the store's whole-record read
//! (`build_canon`); transform and infer read the typed inputs.

use std::path::Path;

#[test]
fn no_phase_reads_the_canonical_records() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("shared/pipeline/src") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source file");
        checked += 1;
        for (n, line) in text.lines().enumerate() {
            if line.contains("build_canon(") {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(checked > 10, "the pipeline's sources were read ({checked} files)");
    assert!(offenders.is_empty(), "phases decoding canonical records:\n{}", offenders.join("\n"));
    let transform = std::fs::read_to_string(dir.join("transform.rs")).unwrap();
    assert!(transform.contains("build_place_inputs("), "transform reads its typed inputs");
    let infer = std::fs::read_to_string(dir.join("infer.rs")).unwrap();
    assert!(infer.contains("build_infer_inputs("), "infer reads its typed inputs");
}
