use leptos::prelude::*;

use crate::api::{paths, OidcProvider};
use crate::client::fetch::get_json;

/// The social-login providers the server offers, asked for once the page has hydrated (an
/// empty list, the feature off, shows nothing).
pub fn use_providers() -> LocalResource<Vec<OidcProvider>> {
    LocalResource::new(|| async {
        get_json::<Vec<OidcProvider>>(paths::OIDC_PROVIDERS).await.unwrap_or_default()
    })
}

/// "Continue with {label}" for each provider: plain links to the start endpoint, which sends
/// the browser to the provider; it comes back logged in on `/account`.
#[component]
pub fn SocialButtons() -> impl IntoView {
    let providers = use_providers();
    move || {
        let list = providers.get().unwrap_or_default();
        (!list.is_empty()).then(|| {
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
    }
}
