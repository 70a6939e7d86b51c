//! A real SMTP server on loopback for the mail tests: aiosmtpd (installed by `scripts/setup.sh
//! --test` into `.tools/venv`) with its Maildir handler, one per test, writing every mail it
//! accepts as a file. It can be stopped and started again on the same port (an outage).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// One mail as the SMTP server received it.
#[derive(Clone, Debug)]
pub struct Mail {
    pub recipient: String,
    pub subject: String,
    pub text: String,
}

impl Mail {
    /// The token of the link to `page` (`/reset-password`, `/verify-email`) in this mail.
    pub fn link_token(&self, page: &str) -> String {
        let marker = format!("{page}#token=");
        let start = self.text.find(&marker).unwrap_or_else(|| panic!("no {page} link in {:?}", self.text));
        let rest = &self.text[start + marker.len()..];
        rest.split_whitespace().next().unwrap_or_default().to_owned()
    }
}

pub struct MailSink {
    pub port: u16,
    folder: TempDir,
    child: Option<Child>,
}

impl MailSink {
    /// Starts a server on a free port and waits until it accepts connections.
    pub async fn start() -> Self {
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
        let mut sink = Self { port, folder: tempfile::tempdir().expect("temporary folder"), child: None };
        sink.resume().await;
        sink
    }

    /// A port nobody listens on yet, for a sink started later ([`Self::resume`]).
    pub fn stopped() -> Self {
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
        Self { port, folder: tempfile::tempdir().expect("temporary folder"), child: None }
    }

    /// `SMTP_URL` for the app.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops the server: connections are refused until [`Self::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again) on its port.
    pub async fn resume(&mut self) {
        let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/python");
        assert!(python.exists(), "aiosmtpd is missing: run scripts/setup.sh --test");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.folder.path().join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not listen within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every mail received so far for `recipient`, oldest first.
    pub fn mails_to(&self, recipient: &str) -> Vec<Mail> {
        let folder = self.folder.path().join("maildir/new");
        let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
        let mut files: Vec<_> = entries.filter_map(Result::ok).map(|entry| entry.path()).collect();
        files.sort_by_key(|path| (std::fs::metadata(path).and_then(|m| m.modified()).ok(), path.clone()));
        let mut mails: Vec<Mail> =
            files.iter().filter_map(|path| parse(&std::fs::read_to_string(path).ok()?)).collect();
        mails.retain(|mail| mail.recipient.eq_ignore_ascii_case(recipient));
        mails
    }

    /// Waits until `recipient` has received `count` mails (up to `limit`); returns them all.
    pub async fn wait_for(&self, recipient: &str, count: usize, limit: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + limit;
        loop {
            let mails = self.mails_to(recipient);
            if mails.len() >= count {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "{recipient} got {} of {count} mails within {limit:?}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The one newest mail to `recipient` once it has `count`.
    pub async fn mail_number(&self, recipient: &str, count: usize) -> Mail {
        let mails = self.wait_for(recipient, count, Duration::from_secs(20)).await;
        mails[count - 1].clone()
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A stored message: aiosmtpd adds `X-RcptTo`; the body is quoted-printable when a line is
/// long (as the link's is), else as sent.
fn parse(raw: &str) -> Option<Mail> {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n")?;
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    };
    let text = match header("Content-Transfer-Encoding") {
        Some(encoding) if encoding.eq_ignore_ascii_case("quoted-printable") => {
            let decoded = quoted_printable::decode(body, quoted_printable::ParseMode::Robust).ok()?;
            String::from_utf8(decoded).ok()?
        }
        _ => body.to_owned(),
    };
    Some(Mail { recipient: header("X-RcptTo")?, subject: header("Subject")?, text })
}
