//! UI pieces shared by several pages.

mod credentials_form;
mod nav;
mod require_auth;
mod social_buttons;

pub use credentials_form::{CredentialsForm, FormKind};
pub use nav::Nav;
pub use require_auth::RequireAuth;
pub use social_buttons::{use_providers, SocialButtons};
