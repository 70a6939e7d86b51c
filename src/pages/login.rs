use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::components::{CredentialsForm, FormKind, SocialButtons};

#[component]
pub fn Login() -> impl IntoView {
    view! {
        <Title text="Log in · tokenpair" />
        <section class="narrow">
            <h1>"Log in"</h1>
            <SocialButtons />
            <CredentialsForm kind=FormKind::Login />
            <p class="form-links">
                <A href="/forgot-password">"Forgot your password?"</A>
            </p>
            <p class="muted">"No account yet? " <A href="/register">"Register"</A></p>
        </section>
    }
}
