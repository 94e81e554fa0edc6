// `sqlx::migrate!` embeds migrations/ at compile time: rebuild the store when a migration is added
// or changed (sqlx's documented build script; without it a new file is not picked up until the
// crate is rebuilt for another reason).
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
