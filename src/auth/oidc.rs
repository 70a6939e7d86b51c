//! Social login: tokenpair as a relying party of any OpenID Connect provider, ending in the same
//! token pair as a password login. The decisions, in the order a login meets them:
//!
//! 1. **Discovery** (`registry.rs`): each provider in `OIDC_PROVIDERS` is discovered from its
//!    issuer, in the background, retried with backoff while it does not answer, and again every
//!    hour (so its keys follow the provider's rotation). Its button shows only once discovered.
//!    The HTTP client follows no redirects and gives up after 10 s.
//! 2. **Start** (`flow_state.rs`): the authorization code flow with PKCE (S256), `state` and
//!    `nonce`. The flow is a database row, found by the hash of a random value in a short-lived
//!    cookie (`HttpOnly`, `Secure`, `SameSite=Lax`: a `Strict` cookie would not come back with
//!    the provider's top-level redirect), so it is bound to this browser and good for one
//!    callback on any instance: the callback deletes the row as it reads it.
//! 3. **Callback** (`callback.rs`): `state` must match the flow's, `iss` (RFC 9207) the issuer
//!    when sent; the code is exchanged with the client secret and the PKCE verifier; the ID
//!    token's signature is checked against the provider's keys with an allow-list of asymmetric
//!    algorithms (never `none`, never a MAC keyed with our client secret), and its `iss`,
//!    `aud`, `exp` and `nonce`.
//! 4. **Who it is** (`linking.rs`): an identity (provider, `sub`) already linked is that user; an
//!    unknown identity with a verified email no account has becomes a new account without a
//!    password; an email that has an account is **never linked silently** (a provider that
//!    vouches for an address it does not own would take the account over), the owner links
//!    from the sessions page after logging in; a flow started there links to its starter.
//! 5. Then `flow::start_session` opens the session as a password login does, and the browser
//!    lands on `/account`, where the usual refresh call hands the tab its access token: no token
//!    is ever in a URL. Every failure ends on `/login/problem?reason=…` ([`Failure::code`]),
//!    never a 5xx, and is logged; one that names an account is also a security event.

pub mod callback;
pub mod flow_state;
pub mod linking;
pub mod registry;

pub use registry::Providers;

/// Why a social login ended without a session (in `api.rs`: the problem page says each).
pub use crate::api::SignInProblem as Failure;

impl From<sqlx::Error> for Failure {
    fn from(err: sqlx::Error) -> Self {
        tracing::warn!(error = %err, "social login: the database failed");
        Self::Unavailable
    }
}
