//! How a mail leaves: over SMTP with `lettre`, or, without `SMTP_URL`, into the log at WARN
//! (so the app works on a laptop with no mail server; the start-up log says mail is not
//! delivered).
//!
//! `SMTP_URL` is lettre's: `smtps://user:pass@host:465` is TLS from the start;
//! `smtp://user:pass@host:587` gets STARTTLS, required (tokenpair adds `?tls=required` unless
//! the host is this machine or the URL says otherwise), so neither the credentials nor a reset
//! link crosses a network in the clear.

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::db::outbox::Claimed;

pub enum Transport {
    Smtp { mailer: Box<AsyncSmtpTransport<Tokio1Executor>>, from: Mailbox },
    Log,
}

impl Transport {
    /// The transport `smtp_url` names (none: the log), sending as `from`.
    pub fn new(smtp_url: Option<&str>, from: &str) -> Result<Self, String> {
        let Some(url) = smtp_url else { return Ok(Self::Log) };
        let from: Mailbox = from.parse().map_err(|err| format!("MAIL_FROM {from:?}: {err}"))?;
        let url = with_required_tls(url);
        let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .map_err(|err| format!("SMTP_URL: {err}"))?
            .timeout(Some(std::time::Duration::from_secs(10)))
            .build();
        Ok(Self::Smtp { mailer: Box::new(mailer), from })
    }

    pub fn delivers(&self) -> bool {
        matches!(self, Self::Smtp { .. })
    }

    /// Delivers `mail`, or says why not.
    pub async fn deliver(&self, mail: &Claimed) -> Result<(), String> {
        match self {
            Self::Log => {
                tracing::warn!(to = %mail.recipient, subject = %mail.subject, body = %mail.body, "mail NOT delivered (no SMTP_URL): written here instead");
                Ok(())
            }
            Self::Smtp { mailer, from } => {
                let to: Mailbox = mail.recipient.parse().map_err(|err| format!("recipient: {err}"))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&mail.subject)
                    .header(ContentType::TEXT_PLAIN)
                    // lettre picks the transfer encoding: quoted-printable once a line (the
                    // link's) is over 76 characters, which every mail program decodes.
                    .body(mail.body.clone())
                    .map_err(|err| format!("building the message: {err}"))?;
                mailer.send(message).await.map(drop).map_err(|err| err.to_string())
            }
        }
    }
}

/// `smtp://` to another machine without a `tls=` choice: STARTTLS, required.
fn with_required_tls(url: &str) -> String {
    let Some(rest) = url.strip_prefix("smtp://") else { return url.to_owned() };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let local = crate::config::is_loopback_host(crate::config::host_without_port(host));
    if local || url.contains("tls=") {
        return url.to_owned();
    }
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}tls=required")
}

#[cfg(test)]
mod tests {
    use super::with_required_tls;

    #[test]
    fn plain_smtp_to_another_machine_requires_starttls() {
        assert_eq!(
            with_required_tls("smtp://u:p@mail.example:587"),
            "smtp://u:p@mail.example:587?tls=required"
        );
        assert_eq!(with_required_tls("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
        assert_eq!(with_required_tls("smtps://u:p@mail.example"), "smtps://u:p@mail.example");
        assert_eq!(
            with_required_tls("smtp://mail.example?tls=opportunistic"),
            "smtp://mail.example?tls=opportunistic"
        );
    }
}
