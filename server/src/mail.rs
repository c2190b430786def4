//! Account mail (confirmation and reset links) behind one small interface: SMTP when configured,
//! otherwise the log, so that whoever runs the server can still pass a link on.

use std::{future::Future, pin::Pin, sync::Arc};

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::Mailbox};
use secrecy::ExposeSecret;

use crate::{Error, Result, config::Config};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

pub trait Mailer: Send + Sync {
    fn send(&self, mail: Mail) -> Pin<Box<dyn Future<Output = Result<()>> + Send + '_>>;
}

/// The configured mailer.
pub fn from_config(config: &Config) -> Result<Arc<dyn Mailer>> {
    let Some(url) = &config.smtp_url else {
        return Ok(Arc::new(LogMailer));
    };
    let from: Mailbox = config
        .mail_from
        .parse()
        .map_err(|err| Error::Config(format!("SFA_MAIL_FROM {:?}: {err}", config.mail_from)))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
        .map_err(|err| Error::Config(format!("SFA_SMTP_URL: {err}")))?
        .build();
    Ok(Arc::new(SmtpMailer { transport, from }))
}

/// Writes each message to the log at `warn`, so it shows with the default filter.
pub struct LogMailer;

impl Mailer for LogMailer {
    fn send(&self, mail: Mail) -> Pin<Box<dyn Future<Output = Result<()>> + Send + '_>> {
        Box::pin(async move {
            tracing::warn!(
                to = %mail.to,
                subject = %mail.subject,
                "no SMTP server configured (SFA_SMTP_URL); this mail was not sent:\n{}",
                mail.body
            );
            Ok(())
        })
    }
}

struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: Mail) -> Pin<Box<dyn Future<Output = Result<()>> + Send + '_>> {
        Box::pin(async move {
            let to: Mailbox = mail
                .to
                .parse()
                .map_err(|err| Error::Mail(format!("{}: {err}", mail.to)))?;
            let message = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(mail.subject)
                .body(mail.body)
                .map_err(|err| Error::Mail(err.to_string()))?;
            self.transport
                .send(message)
                .await
                .map_err(|err| Error::Mail(err.to_string()))?;
            Ok(())
        })
    }
}
