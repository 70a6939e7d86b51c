//! Refuses to build the wasm without `--split` when cargo-leptos builds it.
//!
//! The pages behind a login are lazy routes (`src/pages.rs`): their code is moved into chunks of
//! its own by cargo-leptos's wasm-split step, which runs only with `--split`. Without it the wasm
//! still imports the `__wasm_split_placeholder__` module that the step would have replaced, and
//! the page never hydrates; the only sign is an error in the browser's console. cargo-leptos
//! links a wasm it will split with `--emit-relocs`, so its absence tells.

use std::env;

fn main() {
    println!("cargo::rerun-if-env-changed=LEPTOS_OUTPUT_NAME");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let for_the_browser = env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    // cargo-leptos sets LEPTOS_OUTPUT_NAME; a plain `cargo build` or `cargo clippy` does not,
    // and needs no split.
    let by_cargo_leptos = env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let rustflags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if for_the_browser && by_cargo_leptos && !rustflags.contains("--emit-relocs") {
        eprintln!(
            "\ntokenpair's pages behind a login are lazy routes, which need cargo-leptos's wasm \
             splitting.\nPass --split: `cargo leptos build --split`, `cargo leptos watch --split`, \
             `cargo leptos serve --split`.\nWithout it the page would never hydrate.\n"
        );
        std::process::exit(1);
    }
}
