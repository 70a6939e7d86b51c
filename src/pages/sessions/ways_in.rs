//! The card of the account's ways in: the social-platform identities linked to it (each
//! unlinkable while another way in remains), a "Link {label}" button for each provider not
//! linked yet, and whether the account has a password.

use gloo_net::http::Method;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Done;
use crate::api::{paths, LinkStart, LinkedIdentity, OidcProvider, WaysIn};
use crate::client::browser::go_to;
use crate::client::fetch::{post_authed, send_authed_empty, ApiError};
use crate::client::local_time;
use crate::client::store::use_auth;
use crate::components::use_providers;

#[component]
pub fn WaysInCard(ways: RwSignal<Option<Result<WaysIn, ApiError>>>, done: Done) -> impl IntoView {
    let providers = use_providers();
    let label_of = move |name: &str| {
        let list = providers.get();
        list.into_iter().find(|p| p.name == name).map_or_else(|| name.to_owned(), |p| p.label)
    };
    let body = move || match ways.get() {
        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Some(Err(err)) => view! { <p class="form-error">{err.message()}</p> }.into_any(),
        Some(Ok(ways)) => {
            let unlinkable = ways.has_password || ways.identities.len() > 1;
            let linked: Vec<String> = ways.identities.iter().map(|i| i.provider.clone()).collect();
            let offered: Vec<OidcProvider> =
                providers.get().into_iter().filter(|p| !linked.contains(&p.name)).collect();
            view! {
                <p class="muted small">
                    {if ways.has_password { "Password: set." } else { "Password: none yet (set one below)." }}
                </p>
                <ul class="list" aria-label="Linked accounts">
                    {ways
                        .identities
                        .into_iter()
                        .map(|identity| {
                            let label = label_of(&identity.provider);
                            view! { <IdentityRow identity label unlinkable done /> }
                        })
                        .collect_view()}
                </ul>
                <p class="actions">
                    {offered
                        .into_iter()
                        .map(|provider| view! { <LinkButton provider done /> })
                        .collect_view()}
                </p>
            }
            .into_any()
        }
    };
    view! {
        <article class="card">
            <h2>"Ways to log in"</h2>
            {body}
            <p class="muted small">
                "A provider is linked only from here, after you logged in: never because it vouches for your email."
            </p>
        </article>
    }
}

#[component]
fn IdentityRow(identity: LinkedIdentity, label: String, unlinkable: bool, done: Done) -> impl IntoView {
    let auth = use_auth();
    let provider = identity.provider.clone();
    let unlink = move |_| {
        let path = format!("{}/{}", paths::IDENTITIES, provider);
        spawn_local(async move {
            done.report(send_authed_empty(auth, Method::DELETE, &path).await.map(|()| "Unlinked.".into()));
        });
    };
    let facts = format!("{} · linked {}", identity.email.unwrap_or_default(), local_time(identity.linked_at));
    view! {
        <li class="list-item">
            <div>
                <strong>{label}</strong>
                <div class="muted small">{facts}</div>
            </div>
            <button
                class="button button-small button-quiet"
                on:click=unlink
                disabled=!unlinkable
                title=(!unlinkable)
                    .then_some("Your only way in: set a password or link another provider first")
            >
                "Unlink"
            </button>
        </li>
    }
}

/// Asks the server to begin a link (it sets the flow cookie), then goes to the provider.
#[component]
fn LinkButton(provider: OidcProvider, done: Done) -> impl IntoView {
    let auth = use_auth();
    let path = format!("/api/auth/oidc/{}/link", provider.name);
    let link = move |_| {
        let path = path.clone();
        spawn_local(async move {
            match post_authed::<LinkStart>(auth, &path, &()).await {
                Ok(start) => go_to(&start.authorization_url),
                Err(err) => done.report(Err(err)),
            }
        });
    };
    view! {
        <button class="button button-quiet" on:click=link>
            {format!("Link {}", provider.label)}
        </button>
    }
}
