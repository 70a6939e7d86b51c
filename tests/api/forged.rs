//! A catalogue of forged and malformed tokens, each refused with 401 by `/api/me` (as an access
//! token) and by `/api/auth/refresh` (as a refresh token), while a valid control token keeps
//! working before and after.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokenpair::auth::unix_now;

use crate::helpers::{refresh_token_of, spawn_app, unique_email, TestApp};

/// Signs anything with the server's real key, so claim checks are tested apart from signatures.
struct Forge {
    key: SigningKey,
    kid: String,
    typ: &'static str,
    claims: Value,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Forge {
    fn header(&self) -> Value {
        json!({ "alg": "EdDSA", "typ": self.typ, "kid": self.kid })
    }

    fn raw(&self, header: &str, payload: &str) -> String {
        let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let signature = self.key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", b64(&signature.to_bytes()))
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        self.raw(&header.to_string(), &claims.to_string())
    }

    fn with_claim(&self, name: &str, value: Value) -> String {
        let mut claims = self.claims.clone();
        claims[name] = value;
        self.sign(&self.header(), &claims)
    }

    fn without_claim(&self, name: &str) -> String {
        let mut claims = self.claims.clone();
        claims.as_object_mut().map(|c| c.remove(name));
        self.sign(&self.header(), &claims)
    }

    fn with_header(&self, name: &str, value: Value) -> String {
        let mut header = self.header();
        header[name] = value;
        self.sign(&header, &self.claims)
    }

    fn unsigned(&self, alg: &str) -> String {
        let header = json!({ "alg": alg, "typ": self.typ, "kid": self.kid });
        format!("{}.{}.", b64(header.to_string().as_bytes()), b64(self.claims.to_string().as_bytes()))
    }

    fn hmac_with(&self, secret: &[u8]) -> String {
        let header = json!({ "alg": "HS256", "typ": self.typ, "kid": self.kid });
        let input =
            format!("{}.{}", b64(header.to_string().as_bytes()), b64(self.claims.to_string().as_bytes()));
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
        mac.update(input.as_bytes());
        format!("{input}.{}", b64(&mac.finalize().into_bytes()))
    }

    /// The catalogue: (name, token).
    fn catalogue(&self, valid: &str, other_valid: &str, other_kind: &str) -> Vec<(String, String)> {
        let now = unix_now();
        let public = self.key.verifying_key().to_bytes();
        let impostor = SigningKey::from_bytes(&[9; 32]);
        let impostor_forge = Forge {
            key: impostor.clone(),
            kid: self.kid.clone(),
            typ: self.typ,
            claims: self.claims.clone(),
        };
        let [h, p, s]: [&str; 3] = valid.splitn(3, '.').collect::<Vec<_>>().try_into().expect("three parts");
        let other_signature = other_valid.rsplit('.').next().expect("signature");
        let mut tampered_claims = self.claims.clone();
        tampered_claims["sub"] = json!("someone-else");
        let mut tokens: Vec<(&str, String)> = vec![
            ("alg none", self.unsigned("none")),
            ("alg None", self.unsigned("None")),
            ("alg NONE", self.unsigned("NONE")),
            ("alg nOnE", self.unsigned("nOnE")),
            ("alg none with a signature", format!("{}{s}", self.unsigned("none"))),
            ("HS256 keyed with the raw public key", self.hmac_with(&public)),
            ("HS256 keyed with the base64url public key", self.hmac_with(b64(&public).as_bytes())),
            (
                "HS256 keyed with the JWKS x value as text",
                self.hmac_with(format!("\"{}\"", b64(&public)).as_bytes()),
            ),
            ("alg RS256", self.with_header("alg", json!("RS256"))),
            ("alg ES256", self.with_header("alg", json!("ES256"))),
            ("alg EdDSA in lower case", self.with_header("alg", json!("eddsa"))),
            ("unknown kid", self.with_header("kid", json!("no-such-key"))),
            ("kid path traversal", self.with_header("kid", json!("../../../../../dev/null"))),
            ("kid SQL injection", self.with_header("kid", json!("' OR '1'='1"))),
            ("kid missing", {
                let mut hd = self.header();
                hd.as_object_mut().map(|o| o.remove("kid"));
                self.sign(&hd, &self.claims)
            }),
            ("kid as a number", self.with_header("kid", json!(1))),
            ("signed by another key under our kid", impostor_forge.sign(&self.header(), &self.claims)),
            (
                "jwk header carrying the signer's own key",
                impostor_forge.with_header(
                    "jwk",
                    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&impostor.verifying_key().to_bytes())}),
                ),
            ),
            (
                "jku header pointing elsewhere, another key",
                impostor_forge.with_header("jku", json!("http://127.0.0.1:9/jwks.json")),
            ),
            (
                "x5u header, another key",
                impostor_forge.with_header("x5u", json!("http://127.0.0.1:9/cert.pem")),
            ),
            (
                "tampered header",
                format!(
                    "{}.{p}.{s}",
                    b64(json!({"alg": "EdDSA", "typ": self.typ, "kid": self.kid, "x": 1})
                        .to_string()
                        .as_bytes())
                ),
            ),
            ("tampered payload", format!("{h}.{}.{s}", b64(tampered_claims.to_string().as_bytes()))),
            ("signature from another token", format!("{h}.{p}.{other_signature}")),
            ("signature truncated", format!("{h}.{p}.{}", &s[..s.len() - 4])),
            ("signature empty", format!("{h}.{p}.")),
            ("signature bit flipped", format!("{h}.{p}.{}", flip_first_char(s))),
            ("expired an hour ago", self.with_claim("exp", json!(now - 3600))),
            ("not valid for another hour", self.with_claim("nbf", json!(now + 3600))),
            ("wrong issuer", self.with_claim("iss", json!("https://evil.example"))),
            ("wrong audience", self.with_claim("aud", json!("another-api"))),
            ("issuer missing", self.without_claim("iss")),
            ("audience missing", self.without_claim("aud")),
            ("exp missing", self.without_claim("exp")),
            ("nbf missing", self.without_claim("nbf")),
            ("sub missing", self.without_claim("sub")),
            ("exp as a string", self.with_claim("exp", json!((now + 3600).to_string()))),
            ("nbf as a string", self.with_claim("nbf", json!((now - 10).to_string()))),
            ("exp as an object", self.with_claim("exp", json!({"$gt": 0}))),
            ("typ JWT", self.with_header("typ", json!("JWT"))),
            ("typ missing", {
                let mut hd = self.header();
                hd.as_object_mut().map(|o| o.remove("typ"));
                self.sign(&hd, &self.claims)
            }),
            ("the other kind of token", other_kind.to_owned()),
            (
                "the other kind's claims re-typed as this kind, signed by our key",
                self.sign(&self.header(), &claims_of(other_kind)),
            ),
            ("crit header naming an extension", self.with_header("crit", json!(["exp"]))),
            ("crit header, empty", self.with_header("crit", json!([]))),
            ("issued an hour in the future", self.with_claim("iat", json!(now + 3600))),
            ("lives a year", self.with_claim("exp", json!(now + 365 * 24 * 3600))),
            (
                "duplicate sub claim",
                self.raw(&self.header().to_string(), &duplicate_claim(&self.claims, "sub")),
            ),
            (
                "duplicate exp claim",
                self.raw(&self.header().to_string(), &duplicate_claim(&self.claims, "exp")),
            ),
            ("header not JSON", self.raw("not json", &self.claims.to_string())),
            ("payload not JSON", self.raw(&self.header().to_string(), "not json")),
            ("non-canonical base64 (padding)", format!("{h}=.{p}.{s}")),
            (
                "standard base64 alphabet",
                format!("{}.{}.{s}", STANDARD.encode(URL_SAFE_NO_PAD.decode(h).unwrap_or_default()), p),
            ),
            ("non-canonical base64 (trailing bits)", format!("{h}.{p}.{}", trailing_bits(s))),
            ("two segments", format!("{h}.{p}")),
            ("four segments", format!("{valid}.{s}")),
            ("garbage", "garbage".into()),
            ("empty", String::new()),
            ("9 KB", format!("{h}.{}.{s}", "A".repeat(9 * 1024))),
        ];
        tokens.retain(|(_, token)| token != valid);
        tokens.into_iter().map(|(name, token)| (name.to_owned(), token)).collect()
    }
}

fn flip_first_char(text: &str) -> String {
    let first = if text.starts_with('A') { 'B' } else { 'A' };
    format!("{first}{}", &text[1..])
}

/// The same base64url text with the unused low bits of the last character set: decodes to the
/// same bytes in a lax decoder, and must be refused by a strict one.
fn trailing_bits(text: &str) -> String {
    let last = text.chars().last().unwrap_or('A');
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).unwrap_or(0);
    let bumped = alphabet.chars().nth((index | 1).min(63)).unwrap_or('B');
    format!("{}{bumped}", &text[..text.len() - 1])
}

fn duplicate_claim(claims: &Value, name: &str) -> String {
    let text = claims.to_string();
    format!("{},\"{name}\":\"x\"}}", &text[..text.len() - 1])
}

async fn real_key(app: &TestApp) -> (SigningKey, String) {
    let (kid, seed): (String, Vec<u8>) =
        sqlx::query_as("SELECT kid, private_key FROM signing_keys ORDER BY activates_at DESC LIMIT 1")
            .fetch_one(&app.state.db)
            .await
            .expect("a signing key");
    (SigningKey::from_bytes(&seed.try_into().expect("32 bytes")), kid)
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("claims")
}

#[tokio::test]
async fn every_forged_access_token_is_refused_and_the_real_one_keeps_working() {
    let app = spawn_app().await;
    let registered = app.register_elsewhere(&unique_email()).await;
    let refresh_token = refresh_token_of(&registered).expect("cookie");
    let tokens: tokenpair::api::TokenResponse = registered.json().await.expect("tokens");
    let (_, second) = app.registered_user().await;
    let (key, kid) = real_key(&app).await;
    let forge = Forge { key, kid, typ: "at+jwt", claims: claims_of(&tokens.access_token) };

    assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK, "control before");
    let catalogue = forge.catalogue(&tokens.access_token, &second.access_token, &refresh_token);
    assert!(catalogue.len() >= 40, "{} variants", catalogue.len());
    for (name, token) in &catalogue {
        let status = app.me(token).await.status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
    }
    assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK, "control after");
}

#[tokio::test]
async fn every_forged_refresh_token_is_refused_and_the_real_one_keeps_working() {
    let app = spawn_app().await;
    let first = app.register_elsewhere(&unique_email()).await;
    let refresh_token = refresh_token_of(&first).expect("cookie");
    let access: tokenpair::api::TokenResponse = first.json().await.expect("tokens");
    let other = refresh_token_of(&app.register_elsewhere(&unique_email()).await).expect("cookie");
    let (key, kid) = real_key(&app).await;
    let forge = Forge { key, kid, typ: "refresh+jwt", claims: claims_of(&refresh_token) };

    let catalogue = forge.catalogue(&refresh_token, &other, &access.access_token);
    assert!(catalogue.len() >= 40, "{} variants", catalogue.len());
    for (name, token) in &catalogue {
        let status = app.refresh_presenting(token).await.status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
    }
    assert_eq!(app.refresh_presenting(&refresh_token).await.status(), StatusCode::OK, "control after");
}

/// A 1 MB token cannot reach the handlers: hyper refuses a header block that large before any
/// routing, with `431 Request Header Fields Too Large` (RFC 6585), the status made for it.
#[tokio::test]
async fn a_one_megabyte_token_is_refused_with_431_before_routing() {
    let app = spawn_app().await;
    let token = format!("eyJ{}", "A".repeat(1024 * 1024));
    let me = app.client.get(app.url("/api/me")).bearer_auth(&token).send().await.expect("an answer");
    let refresh = app.refresh_presenting(&token).await;
    assert_eq!(me.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(refresh.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}
