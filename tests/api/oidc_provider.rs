//! An OpenID Connect provider for the failure tests, served on `localhost` (another site than
//! the app's `127.0.0.1`): discovery, keys, an authorization endpoint that consents at once for
//! the person the test names, and a token endpoint that checks the client secret, the PKCE
//! verifier and single use of each code as a real provider does. What it signs is the test's
//! choice, so the tests can hand the app every kind of bad ID token a real provider never
//! would. The browser tests use a real provider (panva's oidc-provider, `end2end/`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokenpair::auth::unix_now;

pub const CLIENT_ID: &str = "tokenpair-test";
pub const CLIENT_SECRET: &str = "test-client-secret-0123456789";

/// The person the provider says is logging in.
#[derive(Clone, Debug)]
pub struct Person {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
}

impl Person {
    pub fn verified(email: &str) -> Self {
        Self {
            subject: format!("sub-{}", uuid::Uuid::new_v4().simple()),
            email: Some(email.into()),
            email_verified: true,
        }
    }
}

/// What the provider does at the next authorization or code exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Honest,
    /// The authorization endpoint answers `error=access_denied`.
    Deny,
    /// The ID token is signed by a key the provider never published.
    OtherKey,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 keyed with the client secret (valid by the spec for a confidential client).
    MacWithClientSecret,
    Expired,
    WrongAudience,
    WrongNonce,
    WrongIssuer,
    /// The token endpoint answers only after this long.
    Slow(Duration),
    /// The authorization response names another issuer in `iss` (RFC 9207).
    MixUp,
}

struct Grant {
    nonce: String,
    challenge: String,
    redirect_uri: String,
    person: Person,
}

struct Inner {
    issuer: String,
    key: SigningKey,
    other_key: SigningKey,
    person: Person,
    behaviour: Behaviour,
    grants: HashMap<String, Grant>,
}

#[derive(Clone)]
pub struct TestProvider {
    pub issuer: String,
    inner: Arc<Mutex<Inner>>,
}

impl TestProvider {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// The provider on `port` of this machine (0: any free one).
    pub async fn start_on(port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let issuer = format!("http://localhost:{}", listener.local_addr().expect("address").port());
        let inner = Inner {
            issuer: issuer.clone(),
            key: SigningKey::from_bytes(&rand_bytes()),
            other_key: SigningKey::from_bytes(&rand_bytes()),
            person: Person::verified("nobody@example.com"),
            behaviour: Behaviour::Honest,
            grants: HashMap::new(),
        };
        let provider = Self { issuer, inner: Arc::new(Mutex::new(inner)) };
        let routes = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(provider.clone());
        tokio::spawn(async move { axum::serve(listener, routes).await });
        provider
    }

    /// The app's settings for this provider, named `name`.
    pub fn settings(&self, name: &str) -> Vec<(String, String)> {
        Self::settings_for(name, &self.issuer)
    }

    /// The app's settings for a provider `name` at `issuer`, running or not.
    pub fn settings_for(name: &str, issuer: &str) -> Vec<(String, String)> {
        let upper = name.to_ascii_uppercase();
        vec![
            ("OIDC_PROVIDERS".into(), name.into()),
            (format!("OIDC_{upper}_ISSUER"), issuer.to_owned()),
            (format!("OIDC_{upper}_CLIENT_ID"), CLIENT_ID.into()),
            (format!("OIDC_{upper}_CLIENT_SECRET"), CLIENT_SECRET.into()),
            (format!("OIDC_{upper}_LABEL"), "Test ID".into()),
        ]
    }

    pub fn will_log_in(&self, person: Person) {
        self.lock().person = person;
    }

    pub fn behave(&self, behaviour: Behaviour) {
        self.lock().behaviour = behaviour;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn rand_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&Sha256::digest(uuid::Uuid::new_v4().as_bytes()));
    bytes
}

async fn discovery(State(provider): State<TestProvider>) -> Json<Value> {
    let issuer = &provider.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA", "HS256", "none"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(provider): State<TestProvider>) -> Json<Value> {
    let public = provider.lock().key.verifying_key();
    Json(json!({"keys": [{
        "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": "k1",
        "x": URL_SAFE_NO_PAD.encode(public.as_bytes()),
    }]}))
}

async fn authorize(
    State(provider): State<TestProvider>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| query.get(name).cloned().unwrap_or_default();
    let (redirect_uri, state) = (field("redirect_uri"), field("state"));
    assert_eq!(field("client_id"), CLIENT_ID, "the app sends its client id");
    assert_eq!(field("code_challenge_method"), "S256", "the app uses PKCE with S256");
    assert_eq!(field("response_type"), "code");
    let mut inner = provider.lock();
    let issuer = if inner.behaviour == Behaviour::MixUp {
        "https://other.example".to_owned()
    } else {
        inner.issuer.clone()
    };
    let location = if inner.behaviour == Behaviour::Deny {
        format!("{redirect_uri}?error=access_denied&state={state}&iss={issuer}")
    } else {
        let code = uuid::Uuid::new_v4().simple().to_string();
        let grant = Grant {
            nonce: field("nonce"),
            challenge: field("code_challenge"),
            redirect_uri: redirect_uri.clone(),
            person: inner.person.clone(),
        };
        inner.grants.insert(code.clone(), grant);
        format!("{redirect_uri}?code={code}&state={state}&iss={issuer}")
    };
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

async fn token(
    State(provider): State<TestProvider>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let refuse = |error: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response();
    let expected = format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")));
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client"}))).into_response();
    }
    let behaviour = provider.lock().behaviour;
    if let Behaviour::Slow(delay) = behaviour {
        tokio::time::sleep(delay).await;
    }
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    // Single use, as a real provider's: a second exchange of a code finds nothing.
    let Some(grant) = provider.lock().grants.remove(&field("code")) else { return refuse("invalid_grant") };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes()));
    if challenge != grant.challenge
        || field("redirect_uri") != grant.redirect_uri
        || field("grant_type") != "authorization_code"
    {
        return refuse("invalid_grant");
    }
    let id_token = provider.id_token(&grant, behaviour);
    Json(json!({"access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}))
        .into_response()
}

impl TestProvider {
    fn id_token(&self, grant: &Grant, behaviour: Behaviour) -> String {
        let inner = self.lock();
        let now = unix_now();
        let mut claims = json!({
            "iss": inner.issuer, "sub": grant.person.subject, "aud": CLIENT_ID,
            "iat": now, "exp": now + 300, "nonce": grant.nonce,
            "email": grant.person.email, "email_verified": grant.person.email_verified,
        });
        match behaviour {
            Behaviour::Expired => claims["exp"] = json!(now - 600),
            Behaviour::WrongAudience => claims["aud"] = json!("someone-else"),
            Behaviour::WrongNonce => claims["nonce"] = json!("not-the-nonce"),
            Behaviour::WrongIssuer => claims["iss"] = json!("https://other.example"),
            _ => {}
        }
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = |alg: &str, sign: &dyn Fn(&[u8]) -> Vec<u8>| {
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "kid": "k1", "typ": "JWT"}).to_string());
            let input = format!("{header}.{payload}");
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(sign(input.as_bytes())))
        };
        match behaviour {
            Behaviour::AlgNone => signed("none", &|_| Vec::new()),
            Behaviour::OtherKey => signed("EdDSA", &|input| inner.other_key.sign(input).to_bytes().to_vec()),
            Behaviour::MacWithClientSecret => signed("HS256", &|input| {
                use hmac::Mac;
                let mut mac = hmac::Hmac::<Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("key");
                mac.update(input);
                mac.finalize().into_bytes().to_vec()
            }),
            _ => signed("EdDSA", &|input| inner.key.sign(input).to_bytes().to_vec()),
        }
    }
}
