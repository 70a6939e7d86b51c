//! Where the secrets rest: signing-key seeds sealed with AES-256-GCM under
//! `SIGNING_KEY_ENCRYPTION_KEY_FILE` (and a server that will not start without the right key),
//! and a SQLite file only its owner can read.

use std::sync::Arc;

use reqwest::StatusCode;
use tokenpair::api::TokenResponse;

use crate::helpers::{config_for, owned, spawn_app, spawn_app_on, try_build_state, TestApp, TestDatabase};

/// A key file holding 32 random-looking bytes in base64, in a folder that lives as long as it.
fn key_file(byte: u8) -> (tempfile::TempDir, String) {
    let folder = tempfile::tempdir().expect("folder");
    let path = folder.path().join("signing.key");
    let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [byte; 32]);
    std::fs::write(&path, format!("{key}\n")).expect("written");
    (folder, path.display().to_string())
}

async fn stored_seeds(app: &TestApp) -> Vec<Vec<u8>> {
    sqlx::query_scalar("SELECT private_key FROM signing_keys").fetch_all(&app.state.db).await.expect("seeds")
}

async fn startup_error(database: &TestDatabase, settings: &[(&str, &str)]) -> String {
    match try_build_state(&config_for(database, &owned(settings))).await {
        Ok(_) => panic!("started with {settings:?}"),
        Err(err) => err.to_string(),
    }
}

#[tokio::test]
async fn with_a_key_file_seeds_are_sealed_and_the_server_starts_only_with_that_key() {
    let (_folder, path) = key_file(1);
    let settings = owned(&[("SIGNING_KEY_ENCRYPTION_KEY_FILE", &path)]);
    let database = Arc::new(TestDatabase::new().await);
    let app = spawn_app_on(Arc::clone(&database), settings.clone()).await;
    let (_, tokens) = app.registered_user().await;

    let seeds = stored_seeds(&app).await;
    assert_eq!(seeds.len(), 1);
    assert_eq!(seeds[0].len(), 64, "magic, nonce, sealed seed and tag; a plain seed is 32 bytes");
    assert!(seeds[0].starts_with(b"tpk1"));
    let restarted = spawn_app_on(Arc::clone(&database), settings).await;
    assert_eq!(restarted.me(&tokens.access_token).await.status(), StatusCode::OK, "the same key, opened");

    let without = startup_error(&database, &[]).await;
    assert!(without.contains("stored encrypted: set SIGNING_KEY_ENCRYPTION_KEY_FILE"), "{without}");
    let (_other_folder, other) = key_file(2);
    let wrong = startup_error(&database, &[("SIGNING_KEY_ENCRYPTION_KEY_FILE", &other)]).await;
    assert!(wrong.contains("does not open with this SIGNING_KEY_ENCRYPTION_KEY_FILE"), "{wrong}");
    let missing = startup_error(&database, &[("SIGNING_KEY_ENCRYPTION_KEY_FILE", "/nonexistent/key")]).await;
    assert!(missing.contains("cannot read /nonexistent/key"), "{missing}");
}

#[tokio::test]
async fn setting_a_key_file_later_seals_the_plain_seeds_and_logs_nobody_out() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    assert_eq!(stored_seeds(&app).await[0].len(), 32, "plain without a key file");
    let (_folder, path) = key_file(3);

    let sealed =
        spawn_app_on(Arc::clone(&app.database), owned(&[("SIGNING_KEY_ENCRYPTION_KEY_FILE", &path)])).await;

    assert_eq!(stored_seeds(&sealed).await[0].len(), 64);
    assert_eq!(sealed.me(&tokens.access_token).await.status(), StatusCode::OK);
    let renewed = sealed.refresh_with(&app.client).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: TokenResponse = renewed.json().await.expect("tokens");
    assert_eq!(sealed.me(&renewed.access_token).await.status(), StatusCode::OK);
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_sqlite_file_is_readable_by_its_owner_only_in_a_private_folder() {
    use std::os::unix::fs::PermissionsExt;

    let root = tempfile::tempdir().expect("folder");
    let folder = root.path().join("data");
    let file = folder.join("tokenpair.db");
    let url = format!("sqlite://{}", file.display());

    tokenpair::db::connect_and_migrate(&url).await.expect("created");

    let mode = |path: &std::path::Path| std::fs::metadata(path).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&file), 0o600);
    let wal = folder.join("tokenpair.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600, "SQLite's own files follow the database's");
    }
}
