use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{paths, OidcProvider};
use crate::client::fetch::get_json;

/// The social-login providers the server offers, asked for once the page has hydrated (an
/// empty list, the feature off, shows nothing). A signal filled by an effect rather than a
/// `LocalResource`, whose async machinery would add kilobytes to the main wasm.
pub fn use_providers() -> RwSignal<Vec<OidcProvider>> {
    let providers = RwSignal::new(Vec::new());
    Effect::new(move || {
        spawn_local(async move {
            providers.set(offered_providers().await);
        });
    });
    providers
}

/// `GET /api/auth/oidc/providers`, read in a wasm chunk of its own (`#[lazy]`, fetched with the
/// first page that asks), so the parsing it needs does not weigh on the main wasm.
#[lazy]
async fn offered_providers() -> Vec<OidcProvider> {
    get_json::<Vec<OidcProvider>>(paths::OIDC_PROVIDERS).await.unwrap_or_default()
}

/// "Continue with {label}" for each provider: plain links to the start endpoint, which sends
/// the browser to the provider; it comes back logged in on `/account`. Rendered once the page
/// has hydrated, by a lazily loaded function (the list and its markup weigh on no page that
/// does not show it); the server renders nothing here, so hydration finds the same.
#[component]
pub fn SocialButtons() -> impl IntoView {
    let links = RwSignal::new_local(None::<AnyView>);
    Effect::new(move || spawn_local(async move { links.set(Some(provider_links().await)) }));
    // A view cannot be cloned out of the signal: it is taken, once, when it arrives.
    move || {
        links.track();
        links.try_update_untracked(Option::take).flatten()
    }
}

/// The links, from `GET /api/auth/oidc/providers` (none: the feature is off, nothing shows).
#[lazy]
async fn provider_links() -> AnyView {
    let list = offered_providers().await;
    (!list.is_empty())
        .then(|| {
            view! {
                <div class="social" aria-label="Log in with another account">
                    {list
                        .into_iter()
                        .map(|provider| {
                            let href = format!("/api/auth/oidc/{}/start", provider.name);
                            view! {
                                <a class="button button-quiet social-button" href=href rel="external">
                                    {format!("Continue with {}", provider.label)}
                                </a>
                            }
                        })
                        .collect_view()}
                    <p class="divider muted small">"or with your email"</p>
                </div>
            }
        })
        .into_any()
}
