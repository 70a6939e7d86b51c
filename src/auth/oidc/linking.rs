//! Who a verified identity is in tokenpair, and what the callback does about it. [`decide`] is
//! the whole rule, with no I/O; [`complete`] reads what it needs, applies the decision, and
//! opens the session as a password login does.

use super::callback::Asserted;
use super::Failure;
use crate::api::EventKind;
use crate::auth::flow::{self, Issued, SignedInWith};
use crate::auth::tokens::Tokens;
use crate::auth::{new_id, unix_now, Client};
use crate::db::{
    self, events::NewEvent, identities::NewIdentity, oidc_flows::FlowRow, users::NewUser, Caller, Pool,
};

/// What to do with a verified identity.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Log in the user this identity is linked to.
    LogIn(&'a str),
    /// Make a new account without a password, linked to this identity, and log it in.
    CreateAccount,
    /// Link this identity to the logged-in user who asked.
    Link(&'a str),
    /// The identity is already this user's: nothing to link.
    AlreadyLinked,
    Refuse(Failure),
}

/// The rule. `linked`: the user the identity is linked to; `linking`: the user who started a
/// link; `email_owner`: the account that has the identity's email.
pub fn decide<'a>(
    asserted: &Asserted,
    linked: Option<&'a str>,
    linking: Option<&'a str>,
    email_owner: Option<&'a str>,
) -> Decision<'a> {
    match (linking, linked) {
        (Some(asker), Some(owner)) if asker == owner => Decision::AlreadyLinked,
        (Some(_), Some(_)) => Decision::Refuse(Failure::IdentityTaken),
        (Some(asker), None) => Decision::Link(asker),
        (None, Some(owner)) => Decision::LogIn(owner),
        // Never linked on the provider's word: it may vouch for an address it does not own.
        (None, None) if email_owner.is_some() => Decision::Refuse(Failure::AccountExists),
        (None, None) if asserted.email.is_none() || !asserted.email_verified => {
            Decision::Refuse(Failure::EmailUnverified)
        }
        (None, None) => Decision::CreateAccount,
    }
}

/// Where the callback sends the browser.
pub enum Landing {
    /// A session began: the pair for the cookies.
    SignedIn(Box<Issued>),
    /// An identity was linked to the user who asked (whose session goes on).
    Linked,
}

/// Applies [`decide`] to a verified identity of the flow's provider.
pub async fn complete(
    db: &Pool,
    tokens: &Tokens,
    flow: &FlowRow,
    label: &str,
    asserted: &Asserted,
    client: Client,
) -> Result<Landing, Failure> {
    let provider = flow.provider.as_str();
    let linked = db::identities::find_user(db, provider, &asserted.subject).await?;
    let email_owner = match &asserted.email {
        Some(email) if linked.is_none() && flow.link_user_id.is_none() => {
            db::users::id_of_email(db, email).await?
        }
        _ => None,
    };
    let decision = decide(asserted, linked.as_deref(), flow.link_user_id.as_deref(), email_owner.as_deref());
    tracing::info!(provider, ?decision, "social login: identity verified");
    match decision {
        Decision::LogIn(user_id) => log_in(db, tokens, user_id, provider, label, client).await,
        Decision::CreateAccount => create_account(db, tokens, flow, label, asserted, client).await,
        Decision::Link(user_id) => link(db, flow, user_id, label, asserted, &client).await,
        Decision::AlreadyLinked => Ok(Landing::Linked),
        Decision::Refuse(failure) => {
            if let Some(owner) = &email_owner {
                let detail = format!(
                    "{label} vouched for this account's email; not linked without a password login first"
                );
                record(db, &client, owner, EventKind::SocialLoginRefused, &detail).await?;
            }
            Err(failure)
        }
    }
}

async fn log_in(
    db: &Pool,
    tokens: &Tokens,
    user_id: &str,
    provider: &str,
    label: &str,
    client: Client,
) -> Result<Landing, Failure> {
    let user = db::users::find_enabled(db, user_id).await?.ok_or(Failure::SessionEnded)?;
    let way_in = SignedInWith::Provider { name: provider, label };
    let issued = flow::start_session(db, tokens, user.public(), user.password_changed_at, way_in, client)
        .await
        .map_err(|_| Failure::Unavailable)?;
    Ok(Landing::SignedIn(Box::new(issued)))
}

async fn create_account(
    db: &Pool,
    tokens: &Tokens,
    flow: &FlowRow,
    label: &str,
    asserted: &Asserted,
    client: Client,
) -> Result<Landing, Failure> {
    let email = asserted.email.as_deref().ok_or(Failure::EmailUnverified)?;
    let (id, now) = (new_id(), unix_now());
    let mut tx = db::begin_write(db).await?;
    // Only an address the provider vouched for gets here (`asserted.email`): verified.
    let user = NewUser { id: &id, email, password_hash: db::users::NO_PASSWORD, now, verified: true };
    let identity = NewIdentity {
        provider: &flow.provider,
        subject: &asserted.subject,
        user_id: &id,
        email: Some(email),
        now,
    };
    // A unique violation: the same email or identity arrived a moment ago; refused as such.
    let inserted = async {
        db::users::insert(&mut *tx, user).await?;
        db::identities::insert(&mut *tx, identity).await
    };
    if let Err(err) = inserted.await {
        return Err(if db::is_unique_violation(&err) { Failure::AccountExists } else { err.into() });
    }
    let detail = format!("with {label}");
    let event = NewEvent { detail: Some(&detail), ..client.event(&id, None, EventKind::Registered) };
    db::events::record(&mut *tx, event).await?;
    tx.commit().await?;
    tracing::info!(user_id = %id, provider = %flow.provider, "registered through a social login");
    log_in(db, tokens, &id, &flow.provider, label, client).await
}

async fn link(
    db: &Pool,
    flow: &FlowRow,
    user_id: &str,
    label: &str,
    asserted: &Asserted,
    client: &Client,
) -> Result<Landing, Failure> {
    let session_id = flow.link_session_id.as_deref().ok_or(Failure::SessionEnded)?;
    let now = unix_now();
    if !db::sessions::caller_is_live(db, Caller { session_id, user_id, now }).await? {
        return Err(Failure::SessionEnded);
    }
    let identity = NewIdentity {
        provider: &flow.provider,
        subject: &asserted.subject,
        user_id,
        email: asserted.email.as_deref(),
        now,
    };
    if let Err(err) = db::identities::insert(db, identity).await {
        return Err(if db::is_unique_violation(&err) { Failure::ProviderAlreadyLinked } else { err.into() });
    }
    record(db, client, user_id, EventKind::IdentityLinked, label).await?;
    tracing::info!(user_id, provider = %flow.provider, "identity linked");
    Ok(Landing::Linked)
}

async fn record(
    db: &Pool,
    client: &Client,
    user_id: &str,
    kind: EventKind,
    detail: &str,
) -> Result<(), Failure> {
    let event = NewEvent { detail: Some(detail), ..client.event(user_id, None, kind) };
    db::events::record(db, event).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asserted(email: Option<&str>, verified: bool) -> Asserted {
        Asserted { subject: "sub-1".into(), email: email.map(str::to_owned), email_verified: verified }
    }

    #[test]
    fn an_identity_is_never_linked_to_an_existing_email_on_the_providers_word() {
        let vouched = asserted(Some("ada@example.com"), true);
        assert_eq!(decide(&vouched, None, None, Some("u-ada")), Decision::Refuse(Failure::AccountExists));
        assert_eq!(decide(&vouched, None, None, None), Decision::CreateAccount);
        assert_eq!(decide(&vouched, Some("u-1"), None, None), Decision::LogIn("u-1"));
    }

    #[test]
    fn a_new_account_needs_a_verified_email() {
        assert_eq!(
            decide(&asserted(Some("a@example.com"), false), None, None, None),
            Decision::Refuse(Failure::EmailUnverified)
        );
        assert_eq!(
            decide(&asserted(None, true), None, None, None),
            Decision::Refuse(Failure::EmailUnverified)
        );
    }

    #[test]
    fn linking_goes_to_the_user_who_asked_and_never_takes_anothers_identity() {
        let any = asserted(Some("other@example.com"), false);
        assert_eq!(decide(&any, None, Some("u-me"), None), Decision::Link("u-me"));
        assert_eq!(decide(&any, Some("u-me"), Some("u-me"), None), Decision::AlreadyLinked);
        assert_eq!(
            decide(&any, Some("u-other"), Some("u-me"), None),
            Decision::Refuse(Failure::IdentityTaken)
        );
    }
}
