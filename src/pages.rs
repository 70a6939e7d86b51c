//! One module per page.

mod account;
mod home;
mod inspector;
mod lab;
mod login;
mod not_found;
mod register;
mod sessions;

pub use account::Account;
pub use home::Home;
pub use inspector::Inspector;
pub use lab::Lab;
pub use login::Login;
pub use not_found::NotFound;
pub use register::Register;
pub use sessions::Sessions;
