//! What the provider says about the person, checked: the code exchanged with the client
//! secret and the PKCE verifier, then the ID token verified by `openidconnect` (signature
//! against the provider's keys, `iss`, `aud`, `exp`, `nonce`) with an algorithm allow-list.

use openidconnect::core::{CoreJwsSigningAlgorithm as Alg, CoreTokenResponse};
use openidconnect::{AuthorizationCode, Nonce, PkceCodeVerifier, RequestTokenError, TokenResponse};

use super::registry::{error_chain, Discovered};
use super::Failure;
use crate::db::oidc_flows::FlowRow;

/// The ID token's signature algorithms accepted: asymmetric ones only. Never `none`, and never
/// a MAC keyed with our own client secret (`HS256`…), which anyone holding the secret forges.
pub const ALLOWED_ALGORITHMS: [Alg; 10] = [
    Alg::RsaSsaPkcs1V15Sha256,
    Alg::RsaSsaPkcs1V15Sha384,
    Alg::RsaSsaPkcs1V15Sha512,
    Alg::RsaSsaPssSha256,
    Alg::RsaSsaPssSha384,
    Alg::RsaSsaPssSha512,
    Alg::EcdsaP256Sha256,
    Alg::EcdsaP384Sha384,
    Alg::EcdsaP521Sha512,
    Alg::EdDsa,
];

/// What the callback's query says, as sent (all optional: a provider or a forger may leave any out).
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// RFC 9207: the issuer of the authorization response, when the provider sends it.
    pub iss: Option<String>,
    pub error: Option<String>,
}

/// Who the provider says the person is, from a verified ID token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asserted {
    pub subject: String,
    /// Lower-cased and trimmed, as our emails are.
    pub email: Option<String>,
    pub email_verified: bool,
}

/// The authorization response's own verdict, before any exchange: an error the provider sent,
/// or an `iss` that is not this provider's (a mix-up).
pub fn check_response(query: &CallbackQuery, discovered: &Discovered) -> Result<(), Failure> {
    match query.error.as_deref() {
        Some("access_denied") => return Err(Failure::Denied),
        Some(_) => return Err(Failure::ProviderError),
        None => {}
    }
    match &query.iss {
        Some(iss) if iss.trim_end_matches('/') != discovered.issuer.as_str().trim_end_matches('/') => {
            Err(Failure::IssuerMismatch)
        }
        _ => Ok(()),
    }
}

/// Exchanges the code and verifies the ID token it comes with.
pub async fn identify(
    http: &openidconnect::reqwest::Client,
    discovered: &Discovered,
    flow: &FlowRow,
    code: Option<&str>,
) -> Result<Asserted, Failure> {
    let code = code.filter(|code| !code.is_empty()).ok_or(Failure::ProviderError)?;
    let response: CoreTokenResponse = discovered
        .client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|_| Failure::ProviderError)?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
        .request_async(http)
        .await
        .map_err(|err| {
            tracing::warn!(provider = %flow.provider, error = %error_chain(&err), "social login: code exchange failed");
            match err {
                RequestTokenError::ServerResponse(_) => Failure::CodeRejected,
                _ => Failure::ProviderUnreachable,
            }
        })?;
    let id_token = response.id_token().ok_or(Failure::BadIdToken)?;
    let verifier = discovered.client.id_token_verifier().set_allowed_algs(ALLOWED_ALGORITHMS);
    let claims = id_token.claims(&verifier, &Nonce::new(flow.nonce.clone())).map_err(|err| {
        tracing::warn!(provider = %flow.provider, error = %error_chain(&err), "social login: ID token refused");
        Failure::BadIdToken
    })?;
    Ok(Asserted {
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|email| crate::auth::flow::normalise_email(email.as_str())),
        email_verified: claims.email_verified() == Some(true),
    })
}
