//! OWASP's "device cookie": how the owner of an account keeps logging in while strangers guess
//! its password.
//!
//! A successful login (or registration) sets `__Secure-tokenpair-device`: a token signed like
//! the others (`typ: device+jwt`) naming the account, HttpOnly, sent only to the login
//! endpoint. At the next login the decision is:
//!
//! | the browser presents…                                   | the attempt draws on…                  |
//! |---------------------------------------------------------|----------------------------------------|
//! | no device cookie, a forged or expired one, or one for another account | the account's budget, shared by every such browser |
//! | a valid device cookie for this account                  | that device's own budget                |
//!
//! Only failures are counted (`auth/limits.rs`). Strangers spend the account's budget and then
//! get 429, whatever the password; the owner's browser has its own and logs in. A stolen device
//! cookie gives a thief one device's budget, no more; it is no credential.
//!
//! It lives 30 days from the last login. A device cookie signed by a signing key that has since
//! been deleted (after a rotation, once the key's tokens expired) no longer verifies: that
//! browser then counts as a new one until its next login.

use std::time::Duration;

use super::limits::LoginBudget;
use super::tokens::{Signed, Tokens};

/// How long a browser stays known after its last successful login.
pub const LIFETIME: Duration = super::tokens::DEVICE_LIFETIME;

/// Whose budget a login for `email` draws on, given the browser's device cookie and the id of
/// the account `email` names (if it has one).
pub fn budget(tokens: &Tokens, presented: Option<&str>, email: &str, account: Option<&str>) -> LoginBudget {
    let device = presented.and_then(|token| tokens.verify_device(token).ok());
    match (device, account) {
        (Some(device), Some(account)) if device.sub == account => LoginBudget::Device(device.jti),
        _ => LoginBudget::Account(email.to_owned()),
    }
}

/// A new device cookie's token for `user_id`, after a successful login at `now`.
pub fn issue(tokens: &Tokens, user_id: &str, now: i64) -> Result<Signed, jsonwebtoken::errors::Error> {
    tokens.sign_device(user_id, now, LIFETIME)
}
