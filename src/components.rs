//! UI pieces shared by several pages.

mod credentials_form;
mod nav;
mod require_auth;

pub use credentials_form::{CredentialsForm, FormKind};
pub use nav::Nav;
pub use require_auth::RequireAuth;
