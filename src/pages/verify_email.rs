use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::{paths, VerifyConfirm};
use crate::client::browser::link_token;
use crate::client::fetch::{post_json_or_accepted, ApiError};
use crate::client::refresh::refresh;
use crate::client::store::use_auth;

/// Where a verification link lands (`/verify-email#token=…`). As with a reset link, opening it
/// changes nothing; the button uses the token. A logged-in tab then refreshes, so its access
/// token says `email_verified` at once.
#[component]
pub fn VerifyEmail() -> impl IntoView {
    let auth = use_auth();
    let token = RwSignal::new(None::<String>);
    let (pending, done) = (RwSignal::new(false), RwSignal::new(false));
    let error = RwSignal::new(None::<ApiError>);
    Effect::new(move || token.set(link_token()));
    let confirm = move |_| {
        let Some(link) = token.get_untracked().filter(|_| !pending.get_untracked()) else { return };
        pending.set(true);
        error.set(None);
        let logged_in = auth.user().is_some();
        spawn_local(async move {
            match post_json_or_accepted::<()>(paths::VERIFY_EMAIL_CONFIRM, &VerifyConfirm { token: link })
                .await
            {
                Ok(_) => {
                    done.set(true);
                    if logged_in {
                        refresh(auth).await;
                    }
                }
                Err(err) => error.set(Some(err)),
            }
            pending.set(false);
        });
    };
    view! {
        <Title text="Confirm your email address · tokenpair" />
        <section class="narrow">
            <h1>"Confirm your email address"</h1>
            <article class="card form">
                <p class="form-notice" role="status">
                    {move || done.get().then_some("Your address is confirmed. Thank you!")}
                </p>
                <p class="form-error" role="alert">
                    {move || error.get().map(|err| err.message())}
                </p>
                <button
                    class="button"
                    class:hidden=move || done.get()
                    disabled=move || pending.get() || token.get().is_none()
                    on:click=confirm
                >
                    {move || if pending.get() { "Please wait…" } else { "Confirm my address" }}
                </button>
                <p class="muted">
                    <A href="/account">"Your account"</A>
                    " · "
                    <A href="/login">"Log in"</A>
                </p>
            </article>
        </section>
    }
}
