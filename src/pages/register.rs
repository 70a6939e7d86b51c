use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::components::{CredentialsForm, FormKind, SocialButtons};

#[component]
pub fn Register() -> impl IntoView {
    view! {
        <Title text="Register · tokenpair" />
        <section class="narrow">
            <h1>"Create an account"</h1>
            <SocialButtons />
            <CredentialsForm kind=FormKind::Register />
            <p class="muted">"Already registered? " <A href="/login">"Log in"</A></p>
        </section>
    }
}
