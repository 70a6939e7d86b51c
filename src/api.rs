//! What travels over the wire. Both halves compile this file, so the browser parses exactly
//! what the server writes.

use serde::{Deserialize, Serialize};

/// The JSON API's paths, named once.
pub mod paths {
    pub const REGISTER: &str = "/api/auth/register";
    pub const LOGIN: &str = "/api/auth/login";
    pub const REFRESH: &str = "/api/auth/refresh";
    pub const LOGOUT: &str = "/api/auth/logout";
    pub const ME: &str = "/api/me";
    pub const SESSIONS: &str = "/api/auth/sessions";
    pub const LOGOUT_OTHERS: &str = "/api/auth/logout-others";
    pub const LOGOUT_ALL: &str = "/api/auth/logout-all";
    pub const PASSWORD: &str = "/api/auth/password";
    pub const EVENTS: &str = "/api/auth/events";
    pub const CHAIN: &str = "/api/auth/sessions/current/chain";
    pub const PASSWORD_RESET: &str = "/api/auth/password-reset";
    pub const PASSWORD_RESET_CONFIRM: &str = "/api/auth/password-reset/confirm";
    pub const VERIFY_EMAIL: &str = "/api/auth/verify-email";
    pub const VERIFY_EMAIL_CONFIRM: &str = "/api/auth/verify-email/confirm";
    pub const OIDC_PROVIDERS: &str = "/api/auth/oidc/providers";
    pub const IDENTITIES: &str = "/api/auth/identities";
    /// The page a social login that failed ends on, with `?reason=` (`auth/oidc.rs`).
    pub const SIGN_IN_PROBLEM: &str = "/login/problem";
    pub const JWKS: &str = "/.well-known/jwks.json";
    pub const OPENAPI: &str = "/api/openapi.json";
    pub const METRICS: &str = "/metrics";
    pub const HEALTHZ: &str = "/healthz";
    pub const READYZ: &str = "/readyz";
    pub const LAB: &str = "/api/lab";
    /// The attack lab's extra endpoints, routed only with `TOKENPAIR_LAB=1` (`http/lab.rs`).
    pub const LAB_COPY_COOKIE: &str = "/api/auth/lab/copy-cookie";
    pub const LAB_REPLAY: &str = "/api/auth/lab/replay";
    pub const LAB_FORGE: &str = "/api/lab/forge";
    pub const LAB_ATTACKER_PAGE: &str = "/lab/attacker";
    pub const LAB_ATTACKER_SCRIPT: &str = "/lab/attacker.js";
}

/// A new password's length, in characters (Unicode scalar values), at both ends inclusive: the
/// server refuses others with 422, the forms say so before sending, the OpenAPI document states it.
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;
/// The longest email address accepted, in bytes (RFC 5321's path limit less the angle brackets).
pub const EMAIL_MAX_BYTES: usize = 254;

/// A cookie that only says "this browser may have a session" (no secret in it), so the app
/// skips the refresh call for visitors who never logged in. Set and cleared with the refresh
/// cookie.
pub const LOGGED_IN_HINT_COOKIE: &str = "__Host-tokenpair-logged-in";

/// The header the browser app adds to refresh and logout; see `auth/guard.rs` for why.
pub const CSRF_HEADER: &str = "x-requested-with";
pub const CSRF_HEADER_VALUE: &str = "tokenpair";

/// Body of `POST /api/auth/register` and `POST /api/auth/login`. `Debug` leaves the password out.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Credentials {
    #[cfg_attr(feature = "ssr", schema(format = "email", max_length = 254, example = "ada@example.com"))]
    pub email: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 8, max_length = 128, example = "correct horse battery"))]
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("email", &self.email).field("password", &REDACTED).finish()
    }
}

/// What `Debug` prints in place of a secret.
pub const REDACTED: Redacted = Redacted;

/// Prints `[redacted]`; stands in for secrets in hand-written `Debug` impls.
#[derive(Clone, Copy)]
pub struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Answer of register, login and refresh. The refresh token is not here: it travels only in
/// the HttpOnly cookie, out of reach of scripts. `Debug` leaves the access token out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Seconds the access token stays valid, counted from when the response arrives.
    pub expires_in: u64,
    pub user: User,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("user", &self.user)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub email: String,
    /// Whether the address was shown to be the user's: a link mailed to it was used, or the
    /// social platform that created the account vouched for it.
    #[serde(default)]
    pub email_verified: bool,
}

/// Answer of `GET /api/me`, read from the access token alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: String,
    pub email: String,
    /// As the access token says: a verification takes effect in `/api/me` at the next refresh.
    pub email_verified: bool,
    pub session_id: String,
}

/// Body of `POST /api/auth/password-reset`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResetRequest {
    #[cfg_attr(feature = "ssr", schema(example = "ada@example.com"))]
    pub email: String,
}

/// Body of `POST /api/auth/password-reset/confirm`. `Debug` leaves both secrets out.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResetConfirm {
    /// The token from the mailed link's fragment (`#token=…`).
    pub token: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 8, max_length = 128))]
    pub new_password: String,
}

impl std::fmt::Debug for ResetConfirm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetConfirm").field("token", &REDACTED).field("new_password", &REDACTED).finish()
    }
}

/// Body of `POST /api/auth/verify-email/confirm`. `Debug` leaves the token out.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VerifyConfirm {
    pub token: String,
}

impl std::fmt::Debug for VerifyConfirm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyConfirm").field("token", &REDACTED).finish()
    }
}

/// A `202` that says what happens next, and nothing about any account: `sent_if_registered`
/// (a reset request), `verification_sent` (sign-up with `REQUIRE_VERIFIED_EMAIL`, or a new
/// verification mail).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Accepted {
    #[cfg_attr(feature = "ssr", schema(example = "sent_if_registered"))]
    pub status: String,
}

/// One of the user's live sessions, in `GET /api/auth/sessions`. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub id: String,
    pub created_at: i64,
    pub last_refreshed_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The session the request's access token belongs to.
    pub current: bool,
    /// How the session began: `password`, or the social-login provider's name.
    pub signed_in_with: String,
}

/// A social-login provider the login page offers, in `GET /api/auth/oidc/providers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OidcProvider {
    /// The path segment of its endpoints, e.g. `gitlab`.
    pub name: String,
    /// The button says "Continue with {label}".
    pub label: String,
}

/// A social-platform account linked to the user, in `GET /api/auth/identities`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkedIdentity {
    pub provider: String,
    /// The email the provider gave when it was linked.
    pub email: Option<String>,
    pub linked_at: i64,
}

/// `GET /api/auth/identities`: the linked identities, and whether the account has a password
/// (without one, it can set one, and its last identity cannot be unlinked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WaysIn {
    pub has_password: bool,
    pub identities: Vec<LinkedIdentity>,
}

/// Answer of `POST /api/auth/oidc/{name}/link`: where the browser goes to link the identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkStart {
    pub authorization_url: String,
}

/// Something that happened to the account, in `GET /api/auth/events`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecurityEvent {
    pub id: i64,
    pub kind: EventKind,
    pub session_id: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub at: i64,
}

/// What happened, in a security event. Stored and sent as its snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Registered,
    Login,
    LoginFailed,
    Refresh,
    /// A just-rotated refresh token came back inside the grace window and got its successor again.
    RefreshRepeated,
    /// A rotated refresh token came back after the grace window: the session was revoked.
    ReuseDetected,
    /// A refresh carried an access token of another session.
    PairingMismatch,
    Logout,
    SessionRevoked,
    PasswordChanged,
    /// A request carried the refresh cookie more than once (one may be planted by a sibling
    /// subdomain); it was refused.
    AmbiguousCookie,
    /// A social-platform identity was linked to the account (the detail names the provider).
    IdentityLinked,
    IdentityUnlinked,
    /// A password reset link was requested and mailed.
    PasswordResetRequested,
    /// The password was set through a reset link; every session was revoked.
    PasswordReset,
    EmailVerified,
    /// A social login naming this account was refused (the detail says why): for one, a
    /// provider vouching for its email while the account was not linked to it.
    SocialLoginRefused,
    /// A refresh of a session bound to a DPoP key came without a proof by that key (a copied
    /// refresh cookie); refused.
    DpopKeyMismatch,
}

impl EventKind {
    pub const ALL: [Self; 18] = [
        Self::Registered,
        Self::Login,
        Self::LoginFailed,
        Self::Refresh,
        Self::RefreshRepeated,
        Self::ReuseDetected,
        Self::PairingMismatch,
        Self::Logout,
        Self::SessionRevoked,
        Self::PasswordChanged,
        Self::AmbiguousCookie,
        Self::IdentityLinked,
        Self::IdentityUnlinked,
        Self::SocialLoginRefused,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::EmailVerified,
        Self::DpopKeyMismatch,
    ];

    /// The name stored in the database and sent on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::Refresh => "refresh",
            Self::RefreshRepeated => "refresh_repeated",
            Self::ReuseDetected => "reuse_detected",
            Self::PairingMismatch => "pairing_mismatch",
            Self::Logout => "logout",
            Self::SessionRevoked => "session_revoked",
            Self::PasswordChanged => "password_changed",
            Self::AmbiguousCookie => "ambiguous_cookie",
            Self::IdentityLinked => "identity_linked",
            Self::IdentityUnlinked => "identity_unlinked",
            Self::SocialLoginRefused => "social_login_refused",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::EmailVerified => "email_verified",
            Self::DpopKeyMismatch => "dpop_key_mismatch",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// For people: "reuse detected".
    pub fn label(self) -> String {
        self.name().replace('_', " ")
    }
}

/// Why a social login ended without a session (`auth/oidc.rs`). Its code goes in the URL of the
/// page it ends on (`/login/problem?reason=…`), which says what happened and offers the way back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInProblem {
    /// No provider of that name is configured, or it has not answered discovery yet.
    UnknownProvider,
    /// The person declined at the provider (`error=access_denied`).
    Denied,
    /// The provider answered the authorization request with another error.
    ProviderError,
    /// No flow cookie, or one whose flow has expired or was already used.
    FlowExpired,
    /// The callback's `state` (or provider) is not the flow's: a forged or crossed callback.
    StateMismatch,
    /// The callback's `iss` is not the provider's issuer (a mix-up attack, RFC 9207).
    IssuerMismatch,
    /// The provider refused the code (used already, expired, or not ours).
    CodeRejected,
    /// The provider did not answer in time, or not with something we could read.
    ProviderUnreachable,
    /// The ID token failed a check: signature, algorithm, issuer, audience, expiry, nonce.
    BadIdToken,
    /// A new account needs an email the provider says it verified.
    EmailUnverified,
    /// An account with this email exists and is not linked to this identity.
    AccountExists,
    /// The identity is linked to another account (when linking).
    IdentityTaken,
    /// The account already has an identity of this provider (when linking).
    ProviderAlreadyLinked,
    /// The session that started a link ended before it came back, or the account is disabled.
    SessionEnded,
    /// The database could not be reached; nothing was changed.
    Unavailable,
}

impl SignInProblem {
    pub const ALL: [Self; 15] = [
        Self::UnknownProvider,
        Self::Denied,
        Self::ProviderError,
        Self::FlowExpired,
        Self::StateMismatch,
        Self::IssuerMismatch,
        Self::CodeRejected,
        Self::ProviderUnreachable,
        Self::BadIdToken,
        Self::EmailUnverified,
        Self::AccountExists,
        Self::IdentityTaken,
        Self::ProviderAlreadyLinked,
        Self::SessionEnded,
        Self::Unavailable,
    ];

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|problem| problem.code() == code)
    }

    /// What the problem page says, for people.
    pub fn message(self) -> &'static str {
        match self {
            Self::UnknownProvider => "That sign-in provider is not available right now.",
            Self::Denied => "You declined at the provider, so you were not logged in.",
            Self::ProviderError => "The provider could not log you in.",
            Self::FlowExpired => "This sign-in link has expired or was already used. Please start again.",
            Self::StateMismatch => {
                "This answer from the provider does not belong to a sign-in started in this browser, so it was refused."
            }
            Self::IssuerMismatch => "The answer came from another provider than the one you chose, so it was refused.",
            Self::CodeRejected => "The provider refused to confirm this sign-in (it may have been used already).",
            Self::ProviderUnreachable => "The provider did not answer in time. Please try again.",
            Self::BadIdToken => "The provider's answer failed our checks, so it was refused.",
            Self::EmailUnverified => {
                "The provider did not confirm an email address for you, which a new account needs."
            }
            Self::AccountExists => {
                "An account with this email already exists. We never link a provider to an account on its word alone: log in with your password first, then link the provider from the Sessions page."
            }
            Self::IdentityTaken => "That provider account is already linked to another tokenpair account.",
            Self::ProviderAlreadyLinked => {
                "Your account is already linked to an account of this provider; unlink it first."
            }
            Self::SessionEnded => "Your session ended before the provider answered, so nothing was linked.",
            Self::Unavailable => "The service is briefly unavailable; nothing was changed. Please try again.",
        }
    }

    /// The stable code in `/login/problem?reason=`.
    pub fn code(self) -> &'static str {
        match self {
            Self::UnknownProvider => "unknown_provider",
            Self::Denied => "denied",
            Self::ProviderError => "provider_error",
            Self::FlowExpired => "flow_expired",
            Self::StateMismatch => "state_mismatch",
            Self::IssuerMismatch => "issuer_mismatch",
            Self::CodeRejected => "code_rejected",
            Self::ProviderUnreachable => "provider_unreachable",
            Self::BadIdToken => "bad_id_token",
            Self::EmailUnverified => "email_unverified",
            Self::AccountExists => "account_exists",
            Self::IdentityTaken => "identity_taken",
            Self::ProviderAlreadyLinked => "provider_already_linked",
            Self::SessionEnded => "session_ended",
            Self::Unavailable => "unavailable",
        }
    }
}

/// The server's view of the caller's session, in `GET /api/auth/sessions/current/chain`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionChain {
    pub session_id: String,
    /// Every refresh token the session was issued, oldest first.
    pub tokens: Vec<ChainLink>,
    /// What the server decided about this session (rotations, grace answers, reuse), newest first.
    pub decisions: Vec<SecurityEvent>,
}

/// One refresh token of a session, named by the first characters of its `jti`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChainLink {
    pub jti_prefix: String,
    pub parent_prefix: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
}

/// Body of `POST /api/auth/password`. `Debug` leaves both passwords out.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    #[cfg_attr(feature = "ssr", schema(max_length = 128))]
    pub current_password: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 8, max_length = 128))]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange")
            .field("current_password", &REDACTED)
            .field("new_password", &REDACTED)
            .finish()
    }
}

/// How many sessions an action revoked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Revoked {
    pub revoked: usize,
}

/// Every error the API returns has this body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `invalid_credentials`.
    pub error: String,
    /// A sentence for humans.
    pub message: String,
    /// For validation errors: the request field at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The attack lab's wire types (`http/lab.rs` on the server, `pages/lab/` in the browser).
pub mod lab {
    use serde::{Deserialize, Serialize};

    /// `GET /api/lab`: whether the lab's extra endpoints are on.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct LabStatus {
        pub enabled: bool,
    }

    /// A copy of the HttpOnly refresh cookie, as an attacker with it would hold it. No `Debug`.
    #[derive(Clone, Serialize, Deserialize)]
    pub struct StolenCookie {
        pub refresh_token: String,
    }

    /// What the server did with a replayed refresh token: the status the thief got and why.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct Replayed {
        pub status: u16,
        /// The refresh's own outcome, e.g. `reuse_detected` or `session_revoked`.
        pub outcome: String,
        pub explanation: String,
    }

    /// A forged variant of the caller's access token, and why the server refuses it.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct Forgery {
        pub name: String,
        pub token: String,
        /// What the same verification `/api/me` runs says about it.
        pub reason: String,
    }

    /// What the attacker's page (on the other site) posts back to the lab.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct AttackerReport {
        #[serde(rename = "tokenpairLab")]
        pub results: Vec<AttackAttempt>,
    }

    /// One request the attacker's page tried, and what it could read of the answer.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct AttackAttempt {
        pub label: String,
        pub read: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_a_password_or_a_token() {
        let credentials = Credentials { email: "a@example.com".into(), password: "hunter2 hunter2".into() };
        let change =
            PasswordChange { current_password: "old secret".into(), new_password: "new secret".into() };
        let user = User { id: "u".into(), email: "a@example.com".into(), email_verified: false };
        let tokens = TokenResponse {
            access_token: "eyJhbGc".into(),
            token_type: "Bearer".into(),
            expires_in: 900,
            user,
        };
        let printed = format!("{credentials:?} {change:?} {tokens:?}");
        for secret in ["hunter2", "old secret", "new secret", "eyJhbGc"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("a@example.com") && printed.contains("[redacted]"), "{printed}");
    }

    #[test]
    fn every_event_kind_round_trips_through_its_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(EventKind::from_name("made_up"), None);
    }

    #[test]
    fn every_sign_in_problem_round_trips_through_its_code_and_says_something() {
        for problem in SignInProblem::ALL {
            assert_eq!(SignInProblem::from_code(problem.code()), Some(problem));
            assert!(problem.message().ends_with('.'), "{problem:?}");
        }
        assert_eq!(SignInProblem::from_code("<script>"), None);
    }
}
