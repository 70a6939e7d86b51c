use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::SignInProblem;
use crate::components::use_providers;

/// Where a social login that failed ends (`http/oidc.rs`): what happened, in words, and the
/// way back. The reason is one of a fixed list of codes; nothing from the URL is shown as is.
#[component]
pub fn SignInProblemPage() -> impl IntoView {
    let query = use_query_map();
    let problem = move || query.read().get("reason").and_then(|code| SignInProblem::from_code(&code));
    let providers = use_providers();
    let label = move || {
        let name = query.read().get("provider").unwrap_or_default();
        let list = providers.get();
        list.into_iter().find(|p| p.name == name).map_or_else(|| "the provider".to_owned(), |p| p.label)
    };
    let message = move || problem().map_or("The sign-in did not complete.", SignInProblem::message);
    let account_exists = move || problem() == Some(SignInProblem::AccountExists);
    view! {
        <Title text="Could not log you in · tokenpair" />
        <section class="narrow">
            <h1>"Could not log you in"</h1>
            <article class="card notice" role="alert">
                <p class="problem-provider muted small">{move || format!("Signing in with {}", label())}</p>
                <p class="problem-message">{message}</p>
                {move || {
                    account_exists()
                        .then(|| {
                            view! {
                                <p class="muted small">
                                    "Once logged in, open Sessions and choose “Link " {label}
                                    "”; after that, either way logs you in to the same account."
                                </p>
                            }
                        })
                }}
                <p class="actions">
                    <A href="/login" attr:class="button">
                        "Back to log in"
                    </A>
                </p>
            </article>
        </section>
    }
}
