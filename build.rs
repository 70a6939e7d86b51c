//! Rebuilds the server when a migration is added or changed: `sqlx::migrate!` embeds
//! `migrations/` at compile time, and cargo cannot tell by itself that the folder changed.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
