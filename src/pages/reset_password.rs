use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::api::{paths, ResetConfirm, TokenResponse, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::client::browser::link_token;
use crate::client::fetch::{post_json, ApiError};
use crate::client::refresh::accept;
use crate::client::store::use_auth;

/// Where a reset link lands (`/reset-password#token=…`). Opening it changes nothing: a mail
/// scanner that fetches the link sees only this form. Setting the password uses the token,
/// logs out every session of the account, and logs this tab in.
#[component]
pub fn ResetPassword() -> impl IntoView {
    let (auth, navigate) = (use_auth(), use_navigate());
    let token = RwSignal::new(None::<String>);
    let password = RwSignal::new(String::new());
    let (pending, read) = (RwSignal::new(false), RwSignal::new(false));
    let error = RwSignal::new(None::<ApiError>);
    Effect::new(move || {
        token.set(link_token());
        read.set(true);
    });
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        let Some(link) = token.get_untracked().filter(|_| !pending.get_untracked()) else { return };
        pending.set(true);
        error.set(None);
        let confirm = ResetConfirm { token: link, new_password: password.get_untracked() };
        let navigate = navigate.clone();
        spawn_local(async move {
            match post_json::<TokenResponse>(paths::PASSWORD_RESET_CONFIRM, &confirm).await {
                Ok(tokens) => {
                    accept(auth, tokens);
                    navigate("/account", NavigateOptions::default());
                }
                Err(err) => error.set(Some(err)),
            }
            pending.set(false);
        });
    };
    let expired = move || error.get().is_some_and(|err| err.code() == Some("invalid_or_expired_link"));
    let missing = move || read.get() && token.get().is_none();
    view! {
        <Title text="Choose a new password · tokenpair" />
        <section class="narrow">
            <h1>"Choose a new password"</h1>
            <form class="card form" on:submit=on_submit novalidate>
                <p class="muted">"Setting it logs out every session of your account, here and elsewhere."</p>
                <NewPasswordField password error />
                <p class="form-error" role="alert">
                    {move || {
                        if missing() {
                            Some("This link is incomplete: open the whole link from the mail.".to_owned())
                        } else {
                            error.get().filter(|err| err.field().is_none()).map(|err| err.message())
                        }
                    }}
                </p>
                <button type="submit" class="button" disabled=move || pending.get() || token.get().is_none()>
                    {move || if pending.get() { "Please wait…" } else { "Set the password" }}
                </button>
            </form>
            <p class="muted" class:hidden=move || !(expired() || missing())>
                <A href="/forgot-password">"Ask for a new link"</A>
            </p>
        </section>
    }
}

#[component]
fn NewPasswordField(password: RwSignal<String>, error: RwSignal<Option<ApiError>>) -> impl IntoView {
    let message =
        move || error.get().filter(|err| err.field() == Some("new_password")).map(|err| err.message());
    view! {
        <div class="field">
            <label for="new-password">"New password"</label>
            <input
                id="new-password"
                name="new_password"
                type="password"
                autocomplete="new-password"
                required
                minlength=PASSWORD_MIN_CHARS.to_string()
                maxlength=PASSWORD_MAX_CHARS.to_string()
                bind:value=password
                aria-invalid=move || message().is_some().to_string()
            />
            <p class="hint">{format!("{PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters.")}</p>
            <p class="field-error" role="alert">
                {message}
            </p>
        </div>
    }
}
