//! What the two kinds of JWT say. Signing and checking them is `tokens.rs`'s work; the
//! verified-token cache (`verified.rs`) keeps these claims too.

use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "tokenpair";
/// The audience of access tokens: the API.
pub const AUDIENCE: &str = "tokenpair";
/// Refresh and device tokens name their own audience (the refresh endpoint, the login's
/// failure budget), so that no kind of token can pass for another, even with its `typ` changed.
pub const REFRESH_AUDIENCE: &str = "tokenpair-refresh";
pub const DEVICE_AUDIENCE: &str = "tokenpair-device";

/// When a token was issued and when it expires, whatever its kind: checked against the kind's
/// lifetime after its signature (`tokens.rs`).
pub trait Lifetime {
    fn issued_at(&self) -> i64;
    fn expires_at(&self) -> i64;
}

macro_rules! lifetime_from_iat_and_exp {
    ($($claims:ty),*) => {$(
        impl Lifetime for $claims {
            fn issued_at(&self) -> i64 {
                self.iat
            }

            fn expires_at(&self) -> i64 {
                self.exp
            }
        }
    )*};
}

lifetime_from_iat_and_exp!(AccessClaims, RefreshClaims, DeviceClaims);

/// What an access token says. `email` lets `/api/me` answer without the database.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub sid: String,
    pub email: String,
    /// OpenID Connect's claim: the address was shown to be the user's (`api::User`).
    #[serde(default)]
    pub email_verified: bool,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// RFC 7800's confirmation: the key the token is bound to (`dpop.rs`), absent for a plain
    /// bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// `cnf` with RFC 9449's one member: `jkt`, the RFC 7638 SHA-256 thumbprint of the DPoP key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub jkt: String,
}

impl Confirmation {
    /// The thumbprint, if `cnf` names one.
    pub fn jkt(cnf: &Option<Self>) -> Option<&str> {
        cnf.as_ref().map(|cnf| cnf.jkt.as_str())
    }
}

/// What a refresh token says: whose session it belongs to, and which one of its tokens it is.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub sub: String,
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// The key the session is bound to (`dpop.rs`): its refresh needs a proof by that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

impl RefreshClaims {
    pub fn new(user_id: &str, sid: &str, jti: &str, issued_at: i64, expires_at: i64) -> Self {
        Self {
            sub: user_id.into(),
            sid: sid.into(),
            iat: issued_at,
            nbf: issued_at,
            exp: expires_at,
            iss: ISSUER.into(),
            aud: REFRESH_AUDIENCE.into(),
            jti: jti.into(),
            cnf: None,
        }
    }

    /// The same claims, bound to the key of thumbprint `jkt` if there is one.
    pub fn bound_to(self, jkt: Option<&str>) -> Self {
        Self { cnf: jkt.map(|jkt| Confirmation { jkt: jkt.into() }), ..self }
    }
}

/// What a device cookie says: this browser logged in to account `sub` (`auth/device.rs`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeviceClaims {
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// The device's id: its own failed-login budget is keyed on it.
    pub jti: String,
}
