//! The server side of the flow, in the order a request meets it:
//!
//! 1. `password` checks the password at login (Argon2id, off the async threads).
//! 2. `flow` opens a session row and asks `tokens` to sign an access token (15 min, sent in
//!    the JSON body, kept in the tab's memory) and a refresh token (7 days, sent only in the
//!    HttpOnly cookie built by `cookie`). `keys` holds the Ed25519 keys that sign them.
//! 3. Every API call carries the access token; `tokens` verifies it from the JWT alone, with no
//!    database query (remembering it in `verified`): that is the "headless" half of the design.
//! 4. Shortly before it expires the browser calls refresh; the cookie rides along. `guard`
//!    refuses cross-site calls, `limits` floods. `rotation` does the thorough check in one
//!    database transaction and makes a new refresh token the current one; an old one coming
//!    back means a copy exists, and the whole session is revoked.
//!
//! Nothing here knows the HTTP layer or the application state: each function takes the parts
//! it uses (`&Pool`, `&Tokens`, `&Passwords`, `&Limits`), and `http/` hands them over.
//! 5. Logout revokes the session row; the refresh token then stops working at once, and so
//!    does every access token of the session on every instance: `revoked` keeps what was
//!    revoked in memory for one access lifetime, and the headless check consults it. `account`
//!    lists and revokes sessions and changes the password.

use crate::api::EventKind;
use crate::db::events::NewEvent;

pub mod account;
pub mod claims;
pub mod cookie;
pub mod device;
pub mod dpop;
pub mod flow;
pub mod guard;
pub mod keys;
pub mod limits;
pub mod oidc;
pub mod one_time;
pub mod password;
pub mod recovery;
pub mod revocation_feed;
pub mod revoked;
pub mod rotation;
pub mod seed_cipher;
pub mod signatures;
pub mod tokens;
pub mod verified;
pub mod verify;

/// Seconds since the Unix epoch: the one clock every token and row uses.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// A fresh random identifier (122 random bits) for users, sessions and token ids.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The first 8 characters of an id: enough to tell tokens apart in a log or event.
pub fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// Where a request came from, recorded on sessions and security events.
#[derive(Clone, Debug, Default)]
pub struct Client {
    /// Cut to [`USER_AGENT_MAX_CHARS`] wherever it is stored.
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// What a per-address rate limit counts this client as (an IPv6 client is its /64).
    pub rate_key: Option<std::net::IpAddr>,
    /// The thumbprint of the DPoP key this request proved it holds (`dpop.rs`), at an endpoint
    /// that issues tokens: what they are bound to, and what a bound session's refresh needs.
    pub dpop_key: Option<String>,
}

/// The longest User-Agent kept on a session or an event; longer ones are cut.
pub const USER_AGENT_MAX_CHARS: usize = 256;

/// `user_agent` cut to [`USER_AGENT_MAX_CHARS`] characters.
pub fn stored_user_agent(user_agent: &str) -> &str {
    user_agent.char_indices().nth(USER_AGENT_MAX_CHARS).map_or(user_agent, |(cut, _)| &user_agent[..cut])
}

impl Client {
    /// This client, having proved it holds the key of thumbprint `jkt` (or not).
    pub fn holding(self, proof: Option<dpop::Proven>) -> Self {
        Self { dpop_key: proof.map(|proven| proven.jkt), ..self }
    }

    /// A security event of `kind` for this client on the account `user_id`, to add a detail to
    /// and record.
    pub fn event<'a>(
        &'a self,
        user_id: &'a str,
        session_id: Option<&'a str>,
        kind: EventKind,
    ) -> NewEvent<'a> {
        NewEvent { user_id: Some(user_id), session_id, ..self.event_of_no_account(kind) }
    }

    /// A security event of `kind` for this client that names no account (a failed login for
    /// an address with none): recorded, and shown to nobody.
    pub fn event_of_no_account(&self, kind: EventKind) -> NewEvent<'_> {
        NewEvent {
            user_id: None,
            session_id: None,
            kind,
            detail: None,
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref().map(stored_user_agent),
            now: unix_now(),
        }
    }
}
