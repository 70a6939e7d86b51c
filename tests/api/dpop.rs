//! DPoP (RFC 9449, `src/auth/dpop.rs`): tokens issued against a proof are bound to its key,
//! both of them; a bound token is worth nothing without the key; every forged or misused
//! proof is refused, and none is a 5xx.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tokenpair::api::{paths, TokenResponse};

use crate::helpers::{
    assert_error, refresh_token_of, spawn_app, spawn_app_with, unique_email, TestApp, COOKIE_NAME, PASSWORD,
};
use crate::proof::{b64, claims, payload, ProofKey};

/// Registers a new user with a proof by `key`: the tokens, and the refresh cookie's value.
async fn bound_registration(app: &TestApp, key: &ProofKey) -> (TokenResponse, String) {
    let proof = app.proof(key, "POST", paths::REGISTER, None).await;
    let body = json!({ "email": unique_email(), "password": PASSWORD });
    let response = app
        .plain
        .post(app.url(paths::REGISTER))
        .header("dpop", proof)
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = refresh_token_of(&response).expect("a refresh cookie");
    (response.json().await.expect("tokens"), cookie)
}

/// A refresh presenting `cookie` from a client without cookies of its own, with `proof` if any.
async fn refresh(app: &TestApp, cookie: &str, proof: Option<String>) -> Response {
    let request = app.refresh_request(&app.plain).header("cookie", format!("{COOKIE_NAME}={cookie}"));
    let request = match proof {
        Some(proof) => request.header("dpop", proof),
        None => request,
    };
    request.send().await.expect("sent")
}

/// A resource refusal: 401, a `DPoP` challenge naming `error`, and never a 5xx.
async fn assert_refused(response: Response, error: &str) {
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap_or("").to_owned());
    let challenge = challenge.unwrap_or_default();
    assert!(challenge.starts_with(&format!(r#"DPoP error="{error}""#)), "challenge {challenge:?}");
    assert!(challenge.contains(r#"algs="ES256 EdDSA""#), "{challenge}");
    let code =
        if error == "invalid_dpop_proof" || error == "use_dpop_nonce" { error } else { "invalid_token" };
    assert_error(response, StatusCode::UNAUTHORIZED, code).await;
}

#[tokio::test]
async fn a_started_app_checks_signatures_with_its_own_provider() {
    let _app = spawn_app().await;
    assert!(
        tokenpair::auth::signatures::installed(),
        "ring checks EdDSA and ES256, not jsonwebtoken's default"
    );
}

#[tokio::test]
async fn a_proof_at_registration_binds_both_tokens_to_its_key_with_either_algorithm() {
    let app = spawn_app().await;
    for key in ProofKey::both() {
        let (tokens, cookie) = bound_registration(&app, &key).await;
        assert_eq!(tokens.token_type, "DPoP", "{}", key.alg());
        assert_eq!(payload(&tokens.access_token)["cnf"]["jkt"], key.thumbprint());
        assert_eq!(payload(&cookie)["cnf"]["jkt"], key.thumbprint(), "the refresh token is bound too");
        let proof = app.proof(&key, "GET", paths::ME, Some(&tokens.access_token)).await;
        let me = app.me_with_proof(&tokens.access_token, Some(&proof)).await;
        assert_eq!(me.status(), StatusCode::OK, "{}", key.alg());
    }
}

#[tokio::test]
async fn a_token_issued_without_a_proof_stays_a_bearer_token_in_optional_mode() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    assert_eq!(tokens.token_type, "Bearer");
    assert!(payload(&tokens.access_token).get("cnf").is_none());
    assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK);
}

/// A bound token and a proof factory for `/api/me`, for the forgery tests.
struct Bound {
    app: TestApp,
    key: ProofKey,
    token: String,
    nonce: String,
    url: String,
}

impl Bound {
    async fn new() -> Self {
        let app = spawn_app().await;
        let key = ProofKey::es256();
        let (tokens, _) = bound_registration(&app, &key).await;
        let (nonce, url) = (app.nonce().await, app.url(paths::ME));
        Self { app, key, token: tokens.access_token, nonce, url }
    }

    /// Sound claims for `GET /api/me` with the token, to spoil.
    fn claims(&self) -> Value {
        claims("GET", &self.url, &self.nonce, Some(&self.token))
    }

    async fn me(&self, proof: &str) -> Response {
        self.app.me_with_proof(&self.token, Some(proof)).await
    }

    /// Sends the proof `key` makes of `header` and `claims`; asserts it is refused with `error`.
    async fn refused(&self, what: &str, proof: String, error: &str) {
        let response = self.me(&proof).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_refused(response, error).await;
    }
}

#[tokio::test]
async fn a_bound_token_is_refused_without_its_proof_and_as_a_bearer_token() {
    let bound = Bound::new().await;
    assert_refused(bound.app.me_with_proof(&bound.token, None).await, "invalid_token").await;
    assert_refused(bound.app.me(&bound.token).await, "invalid_token").await;
    let sound = bound.key.sign(&bound.key.header(), &bound.claims());
    let as_bearer = bound.app.plain.get(&bound.url).bearer_auth(&bound.token).header("dpop", sound);
    assert_refused(as_bearer.send().await.expect("sent"), "invalid_token").await;
}

#[tokio::test]
async fn a_proof_by_another_key_is_refused() {
    let bound = Bound::new().await;
    let other = ProofKey::es256();
    bound.refused("another key", other.sign(&other.header(), &bound.claims()), "invalid_token").await;
    let other = ProofKey::ed25519();
    bound
        .refused("another algorithm's key", other.sign(&other.header(), &bound.claims()), "invalid_token")
        .await;
}

#[tokio::test]
async fn a_proof_passes_once() {
    let bound = Bound::new().await;
    let proof = bound.key.sign(&bound.key.header(), &bound.claims());
    assert_eq!(bound.me(&proof).await.status(), StatusCode::OK);
    bound.refused("the same proof again", proof, "invalid_dpop_proof").await;
}

#[tokio::test]
async fn a_proof_for_another_request_is_refused() {
    let bound = Bound::new().await;
    let (key, header) = (&bound.key, bound.key.header());
    let spoiled = |member: &str, value: Value| {
        let mut claims = bound.claims();
        claims[member] = value;
        key.sign(&header, &claims)
    };
    bound.refused("htm POST", spoiled("htm", "POST".into()), "invalid_dpop_proof").await;
    bound.refused("htm get", spoiled("htm", "get".into()), "invalid_dpop_proof").await;
    let other_path = bound.app.url(paths::SESSIONS);
    bound.refused("htu another path", spoiled("htu", other_path.into()), "invalid_dpop_proof").await;
    let other_host = bound.url.replace("127.0.0.1", "localhost");
    bound.refused("htu another host", spoiled("htu", other_host.into()), "invalid_dpop_proof").await;
    let other_scheme = bound.url.replace("http://", "https://");
    bound.refused("htu another scheme", spoiled("htu", other_scheme.into()), "invalid_dpop_proof").await;
    bound.refused("htu relative", spoiled("htu", paths::ME.into()), "invalid_dpop_proof").await;
    let with_query = format!("{}?page=2#top", bound.url);
    assert_eq!(
        bound.me(&spoiled("htu", with_query.into())).await.status(),
        StatusCode::OK,
        "§4.3: query ignored"
    );
}

#[tokio::test]
async fn a_proof_must_hash_the_token_it_comes_with() {
    let bound = Bound::new().await;
    let mut claims = bound.claims();
    claims.as_object_mut().expect("object").remove("ath");
    bound.refused("no ath", bound.key.sign(&bound.key.header(), &claims), "invalid_dpop_proof").await;
    claims["ath"] = b64(sha2::Sha256::digest(b"another token")).into();
    bound
        .refused("ath of another token", bound.key.sign(&bound.key.header(), &claims), "invalid_dpop_proof")
        .await;
}

use sha2::Digest as _;

#[tokio::test]
async fn a_stale_or_future_proof_is_refused() {
    let bound = Bound::new().await;
    for (what, shift) in [("five minutes old", -300), ("five minutes ahead", 300), ("61 s old", -61)] {
        let mut claims = bound.claims();
        claims["iat"] = (tokenpair::auth::unix_now() + shift).into();
        bound.refused(what, bound.key.sign(&bound.key.header(), &claims), "invalid_dpop_proof").await;
    }
}

#[tokio::test]
async fn only_es256_and_eddsa_signatures_with_a_public_key_of_their_kind_pass() {
    let bound = Bound::new().await;
    let (key, claims) = (&bound.key, bound.claims());
    let encode = |value: &Value| b64(value.to_string());
    let mut none = key.header();
    none["alg"] = "none".into();
    bound.refused("alg none", format!("{}.{}.", encode(&none), encode(&claims)), "invalid_dpop_proof").await;
    let secret = b"a shared secret nobody should use";
    let hs_header = json!({ "typ": "dpop+jwt", "alg": "HS256", "jwk": { "kty": "oct", "k": b64(secret) } });
    let input = format!("{}.{}", encode(&hs_header), encode(&claims));
    let mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(secret).expect("key");
    let tag = hmac::Mac::finalize(hmac::Mac::chain_update(mac, input.as_bytes())).into_bytes();
    bound.refused("HS256", format!("{input}.{}", b64(tag)), "invalid_dpop_proof").await;
    let mut rs256 = key.header();
    rs256["alg"] = "RS256".into();
    bound.refused("RS256", key.sign(&rs256, &claims), "invalid_dpop_proof").await;
    let mut mismatched = key.header();
    mismatched["alg"] = "EdDSA".into();
    bound.refused("EdDSA with a P-256 key", key.sign(&mismatched, &claims), "invalid_dpop_proof").await;
    let mut private = key.header();
    private["jwk"]["d"] = b64([7u8; 32]).into();
    bound.refused("a private key in jwk", key.sign(&private, &claims), "invalid_dpop_proof").await;
    let mut no_key = key.header();
    no_key.as_object_mut().expect("object").remove("jwk");
    bound.refused("no jwk", key.sign(&no_key, &claims), "invalid_dpop_proof").await;
}

#[tokio::test]
async fn a_proof_signed_by_another_key_than_its_jwk_or_altered_is_refused() {
    let bound = Bound::new().await;
    let impostor = ProofKey::es256();
    bound
        .refused(
            "jwk of the key, signed by another",
            impostor.sign(&bound.key.header(), &bound.claims()),
            "invalid_dpop_proof",
        )
        .await;
    let sound = bound.key.sign(&bound.key.header(), &bound.claims());
    let mut parts: Vec<String> = sound.split('.').map(str::to_owned).collect();
    let mut claims = bound.claims();
    claims["htu"] = bound.app.url(paths::SESSIONS).into();
    parts[1] = b64(claims.to_string());
    bound.refused("claims altered after signing", parts.join("."), "invalid_dpop_proof").await;
}

#[tokio::test]
async fn a_token_or_a_jwt_of_another_kind_is_not_a_proof() {
    let bound = Bound::new().await;
    bound.refused("the access token as its own proof", bound.token.clone(), "invalid_dpop_proof").await;
    let mut plain_jwt = bound.key.header();
    plain_jwt["typ"] = "JWT".into();
    bound.refused("typ JWT", bound.key.sign(&plain_jwt, &bound.claims()), "invalid_dpop_proof").await;
    let mut untyped = bound.key.header();
    untyped.as_object_mut().expect("object").remove("typ");
    bound.refused("no typ", bound.key.sign(&untyped, &bound.claims()), "invalid_dpop_proof").await;
    bound.refused("not a JWT at all", "garbage".into(), "invalid_dpop_proof").await;
    let mut critical = bound.key.header();
    critical["crit"] = json!(["exp"]);
    bound.refused("crit header", bound.key.sign(&critical, &bound.claims()), "invalid_dpop_proof").await;
}

#[tokio::test]
async fn a_proof_without_a_current_nonce_gets_one_to_retry_with() {
    let bound = Bound::new().await;
    let mut claims = bound.claims();
    claims.as_object_mut().expect("object").remove("nonce");
    let response = bound.me(&bound.key.sign(&bound.key.header(), &claims)).await;
    let nonce = response.headers().get("dpop-nonce").expect("a nonce to retry with").to_str().expect("ASCII");
    assert_eq!(nonce, bound.nonce);
    assert_refused(response, "use_dpop_nonce").await;
    let (step, signature) = bound.nonce.split_once('.').expect("step.signature");
    let older = i64::from_str_radix(step, 16).expect("hex") - 2;
    for (what, stale) in [
        ("two steps old", format!("{older:x}.{signature}")),
        ("forged", format!("{step}.{}", b64([0u8; 64]))),
        ("made up", "42".to_owned()),
    ] {
        claims["nonce"] = stale.into();
        bound.refused(what, bound.key.sign(&bound.key.header(), &claims), "use_dpop_nonce").await;
    }
}

#[tokio::test]
async fn another_instance_accepts_the_nonce_and_a_foreign_server_does_not() {
    let bound = Bound::new().await;
    let second = bound.app.another_instance().await;
    let url = second.url(paths::ME);
    let proof = bound.key.sign(&bound.key.header(), &claims("GET", &url, &bound.nonce, Some(&bound.token)));
    assert_eq!(second.me_with_proof(&bound.token, Some(&proof)).await.status(), StatusCode::OK);
    let foreign = spawn_app().await;
    assert_ne!(foreign.nonce().await, bound.nonce, "a nonce is the key ring's");
}

#[tokio::test]
async fn two_dpop_headers_are_refused() {
    let bound = Bound::new().await;
    let one = bound.key.sign(&bound.key.header(), &bound.claims());
    let two = bound.key.sign(&bound.key.header(), &bound.claims());
    let response = bound
        .app
        .plain
        .get(&bound.url)
        .header("authorization", format!("DPoP {}", bound.token))
        .header("dpop", one)
        .header("dpop", two)
        .send()
        .await
        .expect("sent");
    assert_refused(response, "invalid_dpop_proof").await;
}

#[tokio::test]
async fn a_token_endpoint_answers_400_to_a_bad_proof_and_asks_for_a_nonce() {
    let app = spawn_app().await;
    let key = ProofKey::ed25519();
    let body = json!({ "email": unique_email(), "password": PASSWORD });
    let mut stale = claims("POST", &app.url(paths::REGISTER), &app.nonce().await, None);
    stale["iat"] = (tokenpair::auth::unix_now() - 600).into();
    let post =
        |proof: String| app.plain.post(app.url(paths::REGISTER)).header("dpop", proof).json(&body).send();
    let response = post(key.sign(&key.header(), &stale)).await.expect("sent");
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_dpop_proof").await;
    stale["iat"] = tokenpair::auth::unix_now().into();
    stale["nonce"] = Value::Null;
    let response = post(key.sign(&key.header(), &stale)).await.expect("sent");
    let nonce = response.headers().get("dpop-nonce").expect("a nonce").to_str().expect("ASCII").to_owned();
    assert_error(response, StatusCode::BAD_REQUEST, "use_dpop_nonce").await;
    let retried = post(key.proof("POST", &app.url(paths::REGISTER), &nonce, None)).await.expect("sent");
    assert_eq!(retried.status(), StatusCode::CREATED, "the retry with the nonce given passes");
}

#[tokio::test]
async fn a_bound_refresh_needs_its_key_and_the_rotated_pair_stays_bound() {
    let app = spawn_app().await;
    let key = ProofKey::es256();
    let (tokens, cookie) = bound_registration(&app, &key).await;

    let copied = refresh(&app, &cookie, None).await;
    assert_error(copied, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    let thief = ProofKey::es256();
    let stolen = refresh(&app, &cookie, Some(app.proof(&thief, "POST", paths::REFRESH, None).await)).await;
    assert_error(stolen, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;

    let renewed = refresh(&app, &cookie, Some(app.proof(&key, "POST", paths::REFRESH, None).await)).await;
    assert_eq!(renewed.status(), StatusCode::OK, "the session goes on for the key's holder");
    let next_cookie = refresh_token_of(&renewed).expect("rotated cookie");
    let renewed: TokenResponse = renewed.json().await.expect("tokens");
    assert_eq!(renewed.token_type, "DPoP");
    assert_eq!(payload(&renewed.access_token)["cnf"]["jkt"], key.thumbprint());
    assert_eq!(payload(&next_cookie)["cnf"]["jkt"], key.thumbprint());

    let events = app.me_events(&key, &renewed.access_token).await;
    let mismatches = events.iter().filter(|event| event["kind"] == "dpop_key_mismatch").count();
    assert_eq!(mismatches, 2, "both refusals recorded: {events:?}");
    let old_proof = app.proof(&key, "GET", paths::ME, Some(&tokens.access_token)).await;
    let first_token = app.me_with_proof(&tokens.access_token, Some(&old_proof)).await;
    assert_eq!(first_token.status(), StatusCode::OK, "the refusals revoked nothing");
}

#[tokio::test]
async fn an_unbound_session_is_bound_by_its_first_refresh_with_a_proof() {
    let app = spawn_app().await;
    let registered = app.register_elsewhere(&unique_email()).await;
    let cookie = refresh_token_of(&registered).expect("cookie");
    let key = ProofKey::ed25519();
    let renewed = refresh(&app, &cookie, Some(app.proof(&key, "POST", paths::REFRESH, None).await)).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let next_cookie = refresh_token_of(&renewed).expect("rotated cookie");
    let tokens: TokenResponse = renewed.json().await.expect("tokens");
    assert_eq!(tokens.token_type, "DPoP");
    assert_eq!(
        app.me(&tokens.access_token).await.status(),
        StatusCode::UNAUTHORIZED,
        "no longer a bearer token"
    );
    let without_key = refresh(&app, &next_cookie, None).await;
    assert_error(without_key, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn required_mode_issues_and_accepts_no_token_without_a_key() {
    let app = spawn_app_with(&[("DPOP", "required")]).await;
    let body = json!({ "email": unique_email(), "password": PASSWORD });
    let register = app.post_json(&app.plain, paths::REGISTER, &body).await;
    assert_error(register, StatusCode::BAD_REQUEST, "dpop_required").await;
    let login = app.post_json(&app.plain, paths::LOGIN, &body).await;
    assert_error(login, StatusCode::BAD_REQUEST, "dpop_required").await;
    let key = ProofKey::es256();
    let (tokens, cookie) = bound_registration(&app, &key).await;
    assert_error(refresh(&app, &cookie, None).await, StatusCode::BAD_REQUEST, "dpop_required").await;
    let proof = app.proof(&key, "POST", paths::LOGIN, None).await;
    let body = json!({ "email": tokens.user.email, "password": PASSWORD });
    let login =
        app.plain.post(app.url(paths::LOGIN)).header("dpop", proof).json(&body).send().await.expect("sent");
    assert_eq!(login.status(), StatusCode::OK, "a login with a proof");

    let unbound =
        app.state.tokens.sign_access(&tokens.user, "some-session", None, tokenpair::auth::unix_now());
    let unbound = unbound.expect("signed").token;
    assert_refused(app.me(&unbound).await, "invalid_token").await;
}

#[tokio::test]
async fn dpop_off_ignores_proofs_and_issues_bearer_tokens() {
    let app = spawn_app_with(&[("DPOP", "off")]).await;
    let key = ProofKey::es256();
    let body = json!({ "email": unique_email(), "password": PASSWORD });
    let response = app
        .plain
        .post(app.url(paths::REGISTER))
        .header("dpop", key.proof("POST", &app.url(paths::REGISTER), "none", None))
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert!(response.headers().get("dpop-nonce").is_none(), "no nonces when off");
    let tokens: TokenResponse = response.json().await.expect("tokens");
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK);
}

impl TestApp {
    /// The account's security events, asked for with a bound token and a proof by `key`.
    async fn me_events(&self, key: &ProofKey, token: &str) -> Vec<Value> {
        let proof = self.proof(key, "GET", paths::EVENTS, Some(token)).await;
        let response = self
            .plain
            .get(self.url(paths::EVENTS))
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("events")
    }
}
