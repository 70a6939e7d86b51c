//! One module per page. The login form, which most visits meet first, is in the main wasm;
//! every other page is a lazy route, its own wasm chunk fetched the first time it is visited
//! (built with `cargo leptos build --split`; README, "The client's weight").

use leptos::prelude::*;

mod account;
mod forgot_password;
mod home;
mod inspector;
mod lab;
mod login;
mod not_found;
mod register;
mod reset_password;
mod sessions;
mod sign_in_problem;
mod verify_email;

pub use not_found::NotFound;

/// Declares `$route`, the lazily loaded route of the page component `$page`.
macro_rules! lazy_page {
    ($route:ident => $page:path) => {
        #[doc = concat!("The route of [`", stringify!($page), "`], loaded on first visit.")]
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_route: Self) -> AnyView {
                $page().into_any()
            }
        }
    };
}

lazy_page!(HomeRoute => home::Home);
lazy_page!(RegisterRoute => register::Register);
lazy_page!(LoginRoute => login::Login);
lazy_page!(AccountRoute => account::Account);
lazy_page!(SessionsRoute => sessions::Sessions);
lazy_page!(InspectorRoute => inspector::Inspector);
lazy_page!(LabRoute => lab::Lab);
lazy_page!(SignInProblemRoute => sign_in_problem::SignInProblemPage);
lazy_page!(ForgotPasswordRoute => forgot_password::ForgotPassword);
lazy_page!(ResetPasswordRoute => reset_password::ResetPassword);
lazy_page!(VerifyEmailRoute => verify_email::VerifyEmail);
