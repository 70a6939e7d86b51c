use reqwest::StatusCode;
use serde_json::Value;
use tokenpair::auth::keys;

use crate::helpers::{activate_key_now, spawn_app, PASSWORD};

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
        keys::rotate(&app.state.db, std::time::Duration::from_secs(604_800)).await.expect("rotated");
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

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tokenpair"))
        .args(["keys", "rotate"])
        .env("DATABASE_URL", &app.database.url)
        .output()
        .expect("the binary runs");

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("new signing key"));
    app.state.tokens.keys.reload(&app.state.db).await.expect("reloaded");
    assert_eq!(jwks(&app).await["keys"].as_array().map(Vec::len), Some(2));
}
