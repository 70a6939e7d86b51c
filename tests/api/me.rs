use std::time::Duration;

use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tokenpair::api::User;
use tokenpair::auth::{keys, unix_now};

use crate::helpers::{activate_key_now, assert_error, refresh_token_of, spawn_app, spawn_app_with, PASSWORD};

async fn assert_invalid_token(response: Response) {
    assert_eq!(
        response.headers().get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[tokio::test]
async fn a_valid_access_token_gets_the_user_and_session() {
    let app = spawn_app().await;
    let (email, tokens) = app.registered_user().await;

    let response = app.me(&tokens.access_token).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["id"], tokens.user.id.as_str());
    assert_eq!(body["email"], email.as_str());
    assert!(body["session_id"].as_str().is_some_and(|sid| !sid.is_empty()));
}

#[tokio::test]
async fn no_token_or_another_scheme_is_401_with_www_authenticate() {
    let app = spawn_app().await;
    let url = app.url("/api/me");
    assert_invalid_token(app.client.get(&url).send().await.expect("sent")).await;
    let basic =
        app.client.get(&url).header("Authorization", "Basic dXNlcjpwYXNz").send().await.expect("sent");
    assert_invalid_token(basic).await;
    let empty = app.client.get(&url).header("Authorization", "Bearer ").send().await.expect("sent");
    assert_invalid_token(empty).await;
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    let claims: Value = decode_payload(&tokens.access_token);
    let an_hour_ago = unix_now() - 3600;
    let expired = app
        .state
        .tokens
        .sign_access(
            &User {
                id: claims["sub"].as_str().unwrap_or_default().into(),
                email: "x@example.com".into(),
                email_verified: false,
            },
            claims["sid"].as_str().unwrap_or_default(),
            None,
            an_hour_ago,
        )
        .expect("signed");

    assert_invalid_token(app.me(&expired.token).await).await;
}

#[tokio::test]
async fn garbage_and_tampered_tokens_are_refused() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    let mut parts: Vec<String> = tokens.access_token.split('.').map(str::to_owned).collect();
    let mut tampered_payload = decode_payload(&tokens.access_token);
    tampered_payload["email"] = "attacker@example.com".into();
    parts[1] = base64_url(&serde_json::to_vec(&tampered_payload).expect("json"));

    for token in ["garbage", "a.b.c", "....", &"x".repeat(9000), &parts.join(".")] {
        assert_invalid_token(app.me(token).await).await;
    }
    assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK, "the real one still works");
}

#[tokio::test]
async fn a_token_signed_by_another_key_with_our_kid_is_refused() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    let header = jsonwebtoken::decode_header(&tokens.access_token).expect("header");
    let claims = decode_payload(&tokens.access_token);
    let impostor = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let der = impostor.to_pkcs8_der().expect("der");
    let mut forged_header = Header::new(Algorithm::EdDSA);
    forged_header.kid = header.kid;
    forged_header.typ = header.typ;
    let forged = jsonwebtoken::encode(&forged_header, &claims, &EncodingKey::from_ed_der(der.as_bytes()))
        .expect("signed");

    assert_invalid_token(app.me(&forged).await).await;
}

#[tokio::test]
async fn a_refresh_token_is_not_accepted_as_an_access_token() {
    let app = spawn_app().await;
    let response = app.register(&crate::helpers::unique_email(), PASSWORD).await;
    let refresh_token = refresh_token_of(&response).expect("refresh cookie");

    assert_invalid_token(app.me(&refresh_token).await).await;
}

fn decode_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&base64_url_decode(payload)).expect("claims")
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// Verified tokens are remembered (`src/auth/verified.rs`); none of that may extend a token.
#[tokio::test]
async fn a_token_verified_while_valid_is_still_refused_once_expired() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_TTL", "1")]).await;
    let (_, tokens) = app.registered_user().await;
    assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK, "verified and remembered");

    // exp is one second after issue; the leeway for clock skew is five more.
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;

    assert_invalid_token(app.me(&tokens.access_token).await).await;
}

#[tokio::test]
async fn a_remembered_token_stops_working_when_its_signing_key_is_revoked() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK, "verified and remembered");
    let old_kid = jsonwebtoken::decode_header(&tokens.access_token).expect("header").kid.expect("kid");
    let (new_kid, _) =
        keys::rotate(&app.state.db, app.state.tokens.keys.cipher(), Duration::from_secs(604_800))
            .await
            .expect("rotated");
    activate_key_now(&app, &new_kid).await;

    sqlx::query("DELETE FROM signing_keys WHERE kid = $1")
        .bind(&old_kid)
        .execute(&app.state.db)
        .await
        .expect("revoked");
    app.state.tokens.reload_keys(&app.state.db).await.expect("reloaded");

    assert_invalid_token(app.me(&tokens.access_token).await).await;
}
