use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokenpair::api::TokenResponse;
use tokenpair::auth::{keys, revocation_feed};

use crate::helpers::{activate_key_now, assert_error, browser, spawn_app, spawn_app_with, TestApp, PASSWORD};

async fn jwks(app: &crate::helpers::TestApp) -> Value {
    let response = app.client.get(app.url("/.well-known/jwks.json")).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn the_jwks_publishes_the_public_key_and_nothing_secret() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    let kid = jsonwebtoken::decode_header(&tokens.access_token).expect("header").kid.expect("kid");

    let set = jwks(&app).await;

    let keys = set["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(
        (&key["kid"], &key["use"], &key["alg"]),
        (&Value::from(kid), &Value::from("sig"), &Value::from("EdDSA"))
    );
    assert_eq!((&key["kty"], &key["crv"]), (&Value::from("OKP"), &Value::from("Ed25519")));
    assert!(key.get("d").is_none(), "no private part");
    // Another service verifies our token with nothing but the published key.
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).expect("a JWK");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["tokenpair"]);
    let decoded = jsonwebtoken::decode::<Value>(
        &tokens.access_token,
        &jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("key"),
        &validation,
    );
    assert!(decoded.is_ok(), "{decoded:?}");
}

#[tokio::test]
async fn rotating_keeps_old_tokens_valid_and_new_tokens_use_the_new_key() {
    let app = spawn_app().await;
    let (email, before) = app.registered_user().await;
    let old_kid = jsonwebtoken::decode_header(&before.access_token).expect("header").kid.expect("kid");

    let (new_kid, _) =
        keys::rotate(&app.state.db, app.state.tokens.keys.cipher(), std::time::Duration::from_secs(604_800))
            .await
            .expect("rotated");
    app.state.tokens.keys.reload(&app.state.db).await.expect("reloaded");

    let published: Vec<Value> = jwks(&app).await["keys"].as_array().expect("keys").clone();
    assert_eq!(published.len(), 2, "the new key is published before it signs");
    // Published now, signing only after the activation delay: the old key still signs.
    let during = app.login_with(&crate::helpers::browser(), &email, PASSWORD).await;
    let during: tokenpair::api::TokenResponse = during.json().await.expect("tokens");
    assert_eq!(
        jsonwebtoken::decode_header(&during.access_token).expect("h").kid.as_deref(),
        Some(old_kid.as_str())
    );
    // Make the new key active now, as if the delay had passed.
    activate_key_now(&app, &new_kid).await;
    app.state.tokens.keys.reload(&app.state.db).await.expect("reloaded");

    let after: tokenpair::api::TokenResponse =
        app.login_with(&crate::helpers::browser(), &email, PASSWORD).await.json().await.expect("tokens");
    assert_eq!(jsonwebtoken::decode_header(&after.access_token).expect("h").kid, Some(new_kid));
    assert_eq!(app.me(&before.access_token).await.status(), StatusCode::OK, "a token from the retired key");
    assert_eq!(app.me(&after.access_token).await.status(), StatusCode::OK);
    assert_eq!(
        app.refresh_with(&app.client).await.status(),
        StatusCode::OK,
        "a refresh token from the retired key"
    );
}

#[tokio::test]
async fn the_keys_rotate_subcommand_publishes_a_new_key_that_the_server_picks_up() {
    let app = spawn_app().await;

    let output = run_keys_command(&app, &["rotate"]).await;

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("new signing key"));
    app.state.tokens.keys.reload(&app.state.db).await.expect("reloaded");
    assert_eq!(jwks(&app).await["keys"].as_array().map(Vec::len), Some(2));
}

/// Runs `tokenpair keys …` on the app's database and waits for it on a blocking thread: the
/// app runs on this test's one thread and must go on serving meanwhile (its mail sender may
/// hold the write lock the command waits for).
async fn run_keys_command(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tokenpair"));
    command.arg("keys").args(args).env("DATABASE_URL", &app.database.url);
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs")).await.expect("joined")
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).expect("header").kid.expect("kid")
}

#[tokio::test]
async fn a_revoked_key_is_refused_on_every_instance_and_a_new_key_signs_in_its_place() {
    let a = spawn_app().await;
    let b = a.another_instance().await;
    let (email, before) = a.registered_user().await;
    let kid = kid_of(&before.access_token);
    assert_eq!(b.me(&before.access_token).await.status(), StatusCode::OK, "B verified it, and remembers");

    let revoked = keys::revoke(&a.state.db, a.state.tokens.keys.cipher(), &kid).await.expect("revoked");

    let new_kid = revoked.replaced_by.expect("the only key was revoked: another signs in its place");
    if !a.database.is_postgres() {
        // One server per SQLite file: another process's revocation arrives with the catch-up.
        for app in [&a, &b] {
            revocation_feed::catch_up(&app.state.tokens, &app.state.db).await.expect("caught up");
        }
    }
    for app in [&a, &b] {
        let (_, refused) = app.until_me_refuses(&before.access_token, Duration::from_secs(1)).await;
        assert_error(refused, StatusCode::UNAUTHORIZED, "invalid_token").await;
    }
    assert_eq!(a.refresh_with(&a.client).await.status(), StatusCode::UNAUTHORIZED, "its refresh token too");
    assert!(!jwks(&a).await.to_string().contains(&kid), "no longer published");
    let after: TokenResponse = a.login_with(&browser(), &email, PASSWORD).await.json().await.expect("tokens");
    assert_eq!(kid_of(&after.access_token), new_kid);
    assert_eq!(b.me(&after.access_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_keys_revoke_subcommand_revokes_a_key_and_names_an_unknown_one() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    let unknown = run_keys_command(&app, &["revoke", "no-such-key"]).await;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("there is no signing key no-such-key"));
    let revoked = run_keys_command(&app, &["revoke", &kid_of(&tokens.access_token)]).await;

    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    let said = String::from_utf8_lossy(&revoked.stdout);
    assert!(said.contains("revoked signing key") && said.contains("new signing key"), "{said}");
    revocation_feed::catch_up(&app.state.tokens, &app.state.db).await.expect("caught up");
    assert_error(app.me(&tokens.access_token).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[tokio::test]
async fn a_retired_key_verifies_only_what_it_signed_before_it_retired() {
    let app = spawn_app().await;
    let (_, before) = app.registered_user().await;
    let old_kid = kid_of(&before.access_token);
    let cipher = app.state.tokens.keys.cipher();
    let (new_kid, _) =
        keys::rotate(&app.state.db, cipher, Duration::from_secs(604_800)).await.expect("rotated");
    activate_key_now(&app, &new_kid).await;
    app.state.tokens.keys.reload(&app.state.db).await.expect("reloaded");
    assert_eq!(app.me(&before.access_token).await.status(), StatusCode::OK, "signed before it retired");

    // As if it had retired before this token was issued: the token outlived its key.
    let retire = sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE kid = $2");
    let long_ago = tokenpair::auth::unix_now() - 3600;
    retire.bind(long_ago).bind(&old_kid).execute(&app.state.db).await.expect("retired earlier");
    app.state.tokens.reload_keys(&app.state.db).await.expect("reloaded");

    assert_error(app.me(&before.access_token).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let rejected = app.state.tokens.verify_access(&before.access_token).err().map(|r| r.to_string());
    assert!(rejected.is_some_and(|reason| reason.contains("retired")));
    // Its refresh token was issued an hour after that too: the same rule refuses it.
    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_refresh_token_of_a_retired_key_renews_for_its_own_lifetime() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_TTL", "2")]).await;
    let (_, before) = app.registered_user().await;
    let cipher = app.state.tokens.keys.cipher();
    let (new_kid, _) =
        keys::rotate(&app.state.db, cipher, Duration::from_secs(604_800)).await.expect("rotated");
    activate_key_now(&app, &new_kid).await;
    app.state.tokens.keys.reload(&app.state.db).await.expect("reloaded");

    // Past the access lifetime and the leeway after the old key retired.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let refused = app.state.tokens.verify_access(&before.access_token).err().map(|r| r.to_string());
    assert!(refused.is_some(), "the access token is over: {refused:?}");
    let renewed = app.refresh_with(&app.client).await;
    assert_eq!(renewed.status(), StatusCode::OK, "the refresh token lives 7 days, whichever key signed it");
    let renewed: TokenResponse = renewed.json().await.expect("tokens");
    assert_eq!(kid_of(&renewed.access_token), new_kid);
}
