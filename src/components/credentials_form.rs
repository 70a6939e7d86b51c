use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::api::{paths, Credentials, TokenResponse, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::client::fetch::{post_json_or_accepted, ApiError};
use crate::client::refresh::accept;
use crate::client::store::use_auth;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    Login,
    Register,
}

impl FormKind {
    fn path(self) -> &'static str {
        match self {
            Self::Login => paths::LOGIN,
            Self::Register => paths::REGISTER,
        }
    }

    fn submit_label(self) -> &'static str {
        match self {
            Self::Login => "Log in",
            Self::Register => "Create account",
        }
    }
}

/// The email-and-password form of the login and register pages. The server's 422 messages
/// appear next to their field; the button is disabled while the request is pending. A sign-up
/// the server answers with `202` (`REQUIRE_VERIFIED_EMAIL`) says to check the mail instead.
#[component]
pub fn CredentialsForm(kind: FormKind) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let (email, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (pending, mail_sent) = (RwSignal::new(false), RwSignal::new(false));
    let error = RwSignal::new(None::<ApiError>);
    // Server-rendered, the button stays disabled until the Wasm app has hydrated and can
    // submit the form itself; effects run only in the browser, after hydration.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
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
            match post_json_or_accepted::<TokenResponse>(kind.path(), &credentials).await {
                Ok(Some(tokens)) => {
                    accept(auth, tokens);
                    navigate("/account", NavigateOptions::default());
                }
                Ok(None) => mail_sent.set(true),
                Err(err) => error.set(Some(err)),
            }
            pending.set(false);
        });
    };
    let form_error = move || error.get().filter(|err| err.field().is_none()).map(|err| err.message());
    let notice = move || {
        mail_sent
            .get()
            .then_some("Check your mail: the link in it confirms your address, and then you can log in.")
    };
    view! {
        <form class="card form" on:submit=on_submit novalidate>
            <p class="form-notice" role="status">
                {notice}
            </p>
            <EmailField email error />
            <PasswordField password error kind />
            <p class="form-error" role="alert">
                {form_error}
            </p>
            <button type="submit" class="button" disabled=move || pending.get() || !hydrated.get()>
                {move || if pending.get() { "Please wait…" } else { kind.submit_label() }}
            </button>
            <noscript>
                <p class="hint">
                    "Logging in needs JavaScript: the access token is kept in this tab's memory by the app's script."
                </p>
            </noscript>
        </form>
    }
}

/// The server's message about `field`, if its last answer was about that field.
fn field_error(error: RwSignal<Option<ApiError>>, field: &'static str) -> impl Fn() -> Option<String> + Copy {
    move || error.get().filter(|err| err.field() == Some(field)).map(|err| err.message())
}

#[component]
fn EmailField(email: RwSignal<String>, error: RwSignal<Option<ApiError>>) -> impl IntoView {
    let message = field_error(error, "email");
    view! {
        <div class="field">
            <label for="email">"Email"</label>
            <input
                id="email"
                name="email"
                type="email"
                autocomplete="email"
                required
                bind:value=email
                aria-invalid=move || message().is_some().to_string()
            />
            <p class="field-error" role="alert">
                {message}
            </p>
        </div>
    }
}

#[component]
fn PasswordField(
    password: RwSignal<String>,
    error: RwSignal<Option<ApiError>>,
    kind: FormKind,
) -> impl IntoView {
    let message = field_error(error, "password");
    let autocomplete = if kind == FormKind::Register { "new-password" } else { "current-password" };
    let hint = format!("{PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters.");
    view! {
        <div class="field">
            <label for="password">"Password"</label>
            <input
                id="password"
                name="password"
                type="password"
                autocomplete=autocomplete
                required
                minlength=PASSWORD_MIN_CHARS.to_string()
                maxlength=PASSWORD_MAX_CHARS.to_string()
                bind:value=password
                aria-invalid=move || message().is_some().to_string()
            />
            {(kind == FormKind::Register).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" role="alert">
                {message}
            </p>
        </div>
    }
}
