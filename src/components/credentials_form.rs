use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::api::{paths, Credentials, TokenResponse};
use crate::client::fetch::{post_json, ApiError};
use crate::client::refresh::accept;
use crate::client::store::use_auth;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    Login,
    Register,
}

/// The email-and-password form of the login and register pages. The server's 422 messages
/// appear next to their field; the button is disabled while the request is pending.
#[component]
pub fn CredentialsForm(kind: FormKind) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    // Server-rendered, the button stays disabled until the Wasm app has hydrated and can
    // submit the form itself; effects run only in the browser, after hydration.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));

    let (path, submit_label, password_autocomplete) = match kind {
        FormKind::Login => (paths::LOGIN, "Log in", "current-password"),
        FormKind::Register => (paths::REGISTER, "Create account", "new-password"),
    };
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        let credentials = Credentials { email: email.get_untracked(), password: password.get_untracked() };
        let navigate = navigate.clone();
        spawn_local(async move {
            match post_json::<TokenResponse>(path, &credentials).await {
                Ok(tokens) => {
                    accept(auth, tokens);
                    navigate("/account", NavigateOptions::default());
                }
                Err(err) => error.set(Some(err)),
            }
            pending.set(false);
        });
    };
    let field_error = move |field: &'static str| {
        move || error.get().filter(|err| err.field() == Some(field)).map(|err| err.message())
    };
    let form_error = move || error.get().filter(|err| err.field().is_none()).map(|err| err.message());

    view! {
        <form class="card form" on:submit=on_submit novalidate>
            <div class="field">
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required
                    bind:value=email aria-invalid=move || field_error("email")().is_some().to_string()/>
                <p class="field-error" role="alert">{field_error("email")}</p>
            </div>
            <div class="field">
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete=password_autocomplete
                    required minlength="8" maxlength="128"
                    bind:value=password aria-invalid=move || field_error("password")().is_some().to_string()/>
                {(kind == FormKind::Register).then(|| view! { <p class="hint">"8 to 128 characters."</p> })}
                <p class="field-error" role="alert">{field_error("password")}</p>
            </div>
            <p class="form-error" role="alert">{form_error}</p>
            <button type="submit" class="button" disabled=move || pending.get() || !hydrated.get()>
                {move || if pending.get() { "Please wait…" } else { submit_label }}
            </button>
            <noscript>
                <p class="hint">"Logging in needs JavaScript: the access token is kept in this tab's memory by the app's script."</p>
            </noscript>
        </form>
    }
}
