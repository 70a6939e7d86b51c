use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::{paths, Accepted, ResetRequest};
use crate::client::fetch::{post_json_or_accepted, ApiError};

/// "Forgot your password?": asks for a reset link by mail. The answer is the same whether or
/// not the address has an account, and so is what this page says.
#[component]
pub fn ForgotPassword() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let (pending, sent) = (RwSignal::new(false), RwSignal::new(false));
    let error = RwSignal::new(None::<ApiError>);
    // Enabled once hydrated: before that the browser would submit the form itself.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        let request = ResetRequest { email: email.get_untracked() };
        spawn_local(async move {
            match post_json_or_accepted::<Accepted>(paths::PASSWORD_RESET, &request).await {
                Ok(_) => sent.set(true),
                Err(err) => error.set(Some(err)),
            }
            pending.set(false);
        });
    };
    let notice = move || {
        sent.get().then_some(
            "If an account uses this address, a link to choose a new password is on its way. It works for 30 minutes.",
        )
    };
    view! {
        <Title text="Forgot your password? · tokenpair" />
        <section class="narrow">
            <h1>"Forgot your password?"</h1>
            <form class="card form" on:submit=on_submit novalidate>
                <p class="muted">"We will mail you a link to choose a new one."</p>
                <div class="field">
                    <label for="email">"Email"</label>
                    <input
                        id="email"
                        name="email"
                        type="email"
                        autocomplete="email"
                        required
                        bind:value=email
                    />
                </div>
                <p class="form-notice" role="status">
                    {notice}
                </p>
                <p class="form-error" role="alert">
                    {move || error.get().map(|err| err.message())}
                </p>
                <button type="submit" class="button" disabled=move || pending.get() || !hydrated.get()>
                    {move || if pending.get() { "Please wait…" } else { "Send the link" }}
                </button>
            </form>
            <p class="muted">"Remembered it? " <A href="/login">"Log in"</A></p>
        </section>
    }
}
