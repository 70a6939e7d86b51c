//! Every mail the app sends, in plain text. Links carry their token in the fragment (`#token=`),
//! which browsers never send to a server, so it reaches no access log and no `Referer`.

/// A mail to send: its subject and plain-text body.
#[derive(Clone)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail").field("subject", &self.subject).finish_non_exhaustive()
    }
}

pub fn password_reset(origin: &str, token: &str) -> Mail {
    Mail {
        subject: "Reset your tokenpair password".into(),
        body: format!(
            "Someone (hopefully you) asked to reset the password of your tokenpair account.\n\n\
             To choose a new password, open this link within 30 minutes:\n\n\
             {origin}/reset-password#token={token}\n\n\
             Setting a new password logs out every session of your account.\n\
             If you did not ask for this, ignore this mail: your password stays as it is.\n"
        ),
    }
}

pub fn verify_email(origin: &str, token: &str) -> Mail {
    Mail {
        subject: "Confirm your email address for tokenpair".into(),
        body: format!(
            "Please confirm that this address belongs to your tokenpair account.\n\n\
             Open this link within 24 hours and press the button on the page:\n\n\
             {origin}/verify-email#token={token}\n\n\
             If you did not create an account, ignore this mail.\n"
        ),
    }
}

/// To the owner of an address someone tried to register again (`REQUIRE_VERIFIED_EMAIL`).
pub fn already_registered(origin: &str) -> Mail {
    Mail {
        subject: "You already have a tokenpair account".into(),
        body: format!(
            "Someone (hopefully you) tried to create a tokenpair account with this address,\n\
             which already has one. Nothing was changed.\n\n\
             To log in: {origin}/login\n\
             Forgot the password? {origin}/forgot-password\n"
        ),
    }
}
