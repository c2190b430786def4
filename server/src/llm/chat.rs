//! Asking one provider: a system text and a question, the answer streamed as the API sends it. Each API's
//! request and its stream's shape: Anthropic messages and OpenAI (and Azure OpenAI) chat completions as
//! server-sent events, Gemini's `streamGenerateContent` with `alt=sse`, Ollama's chat as JSON lines.

use std::{collections::VecDeque, pin::Pin, time::Duration};

use futures_util::{Stream, StreamExt, stream};
use reqwest::{Client, Method};
use serde_json::{Value, json};

use super::{
    health::{Health, Target, judge},
    providers::Kind,
};
use crate::{Error, Result};

/// How long a provider may take to start answering.
pub const FIRST_ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_TOKENS: u32 = 1024;

#[derive(Debug, Clone)]
pub struct Prompt {
    /// What the model is told first: who it helps, and the track's analysis.
    pub system: String,
    pub question: String,
}

/// The answer's pieces as they arrive; an error ends it.
pub type Answer = Pin<Box<dyn Stream<Item = Result<String>> + Send>>;

/// The model a provider uses when the user named none.
fn default_model(kind: Kind) -> &'static str {
    match kind {
        Kind::Anthropic => "claude-3-5-haiku-latest",
        Kind::OpenAi => "gpt-4o-mini",
        Kind::GoogleGemini => "gemini-2.0-flash",
        Kind::Ollama => "llama3.2",
        // Azure has no default: the model is the deployment, which the provider's form requires.
        Kind::AzureOpenAi => "",
    }
}

/// The path and body of the streaming request for `target`.
fn request_for(target: &Target, prompt: &Prompt) -> (String, Value) {
    let model = target.model.as_deref().unwrap_or(default_model(target.kind));
    let messages = json!([
        { "role": "system", "content": prompt.system },
        { "role": "user", "content": prompt.question },
    ]);
    match target.kind {
        Kind::Anthropic => (
            "/v1/messages".into(),
            json!({
                "model": model,
                "max_tokens": MAX_TOKENS,
                "system": prompt.system,
                "messages": [{ "role": "user", "content": prompt.question }],
                "stream": true,
            }),
        ),
        Kind::OpenAi => (
            "/v1/chat/completions".into(),
            json!({ "model": model, "messages": messages, "stream": true }),
        ),
        Kind::AzureOpenAi => (
            format!("/openai/deployments/{model}/chat/completions"),
            json!({ "messages": messages, "stream": true }),
        ),
        Kind::GoogleGemini => (
            format!("/v1beta/models/{model}:streamGenerateContent?alt=sse"),
            json!({
                "systemInstruction": { "parts": [{ "text": prompt.system }] },
                "contents": [{ "role": "user", "parts": [{ "text": prompt.question }] }],
            }),
        ),
        Kind::Ollama => (
            "/api/chat".into(),
            json!({ "model": model, "messages": messages, "stream": true }),
        ),
    }
}

/// Sends the prompt. `Err` with the reason, in our words, when the provider does not start answering;
/// otherwise the answer as it streams.
pub async fn ask(client: &Client, target: &Target, prompt: &Prompt) -> std::result::Result<Answer, Health> {
    let (path, body) = request_for(target, prompt);
    let sent = tokio::time::timeout(
        FIRST_ANSWER_TIMEOUT,
        target.request(client, Method::POST, &path).json(&body).send(),
    )
    .await;
    let response = match sent {
        Err(_) => {
            return Err(Health::Unreachable(format!(
                "no answer within {} seconds",
                FIRST_ANSWER_TIMEOUT.as_secs()
            )));
        }
        Ok(Err(err)) if err.is_connect() => {
            return Err(Health::Unreachable(
                "could not connect: check the base URL".into(),
            ));
        }
        Ok(Err(err)) => {
            tracing::info!(error = %err, "a provider's request failed");
            return Err(Health::Unreachable(
                "the request failed: check the base URL".into(),
            ));
        }
        Ok(Ok(response)) => response,
    };
    if let Health::Unreachable(why) = judge(response.status()) {
        return Err(Health::Unreachable(why));
    }
    let kind = target.kind;
    let bytes = response.bytes_stream().boxed();
    let state = (bytes, String::new(), VecDeque::<Result<String>>::new(), false);
    Ok(stream::unfold(
        state,
        move |(mut bytes, mut buffer, mut ready, mut ended)| async move {
            loop {
                if let Some(piece) = ready.pop_front() {
                    return Some((piece, (bytes, buffer, ready, ended)));
                }
                if ended {
                    return None;
                }
                match bytes.next().await {
                    Some(Ok(chunk)) => {
                        buffer.push_str(&String::from_utf8_lossy(&chunk));
                        while let Some(end) = buffer.find('\n') {
                            let line: String = buffer.drain(..=end).collect();
                            match piece(kind, line.trim()) {
                                Some(Piece::Text(text)) => ready.push_back(Ok(text)),
                                Some(Piece::Failed(why)) => {
                                    ready.push_back(Err(Error::Unavailable(why)));
                                    ended = true;
                                }
                                Some(Piece::End) => ended = true,
                                None => {}
                            }
                        }
                    }
                    Some(Err(err)) => {
                        tracing::info!(error = %err, "a provider's answer broke off");
                        ready.push_back(Err(Error::Unavailable("The answer broke off.".into())));
                        ended = true;
                    }
                    None => ended = true,
                }
            }
        },
    )
    // Fused: a body may be polled again after its end (the compression layer does), which `unfold` forbids.
    .fuse()
    .boxed())
}

#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Failed(String),
    End,
}

/// What one line of a provider's stream says, if anything.
fn piece(kind: Kind, line: &str) -> Option<Piece> {
    let payload = if kind == Kind::Ollama {
        line
    } else {
        line.strip_prefix("data:")?.trim()
    };
    if payload == "[DONE]" {
        return Some(Piece::End);
    }
    let event: Value = serde_json::from_str(payload).ok()?;
    if event.get("error").is_some() {
        // Not even our log gets the provider's words: they might quote what we sent, the key included.
        tracing::info!(kind = kind.as_str(), "a provider reported an error mid-answer");
        return Some(Piece::Failed("The provider stopped with an error.".into()));
    }
    let text = match kind {
        Kind::Anthropic => match event["type"].as_str() {
            Some("content_block_delta") => event["delta"]["text"].as_str().map(str::to_owned),
            Some("message_stop") => return Some(Piece::End),
            _ => None,
        },
        Kind::OpenAi | Kind::AzureOpenAi => event["choices"][0]["delta"]["content"]
            .as_str()
            .map(str::to_owned),
        Kind::GoogleGemini => {
            let parts = event["candidates"][0]["content"]["parts"].as_array()?;
            Some(parts.iter().filter_map(|part| part["text"].as_str()).collect())
        }
        Kind::Ollama => {
            if event["done"] == true {
                return Some(Piece::End);
            }
            event["message"]["content"].as_str().map(str::to_owned)
        }
    };
    text.filter(|text| !text.is_empty()).map(Piece::Text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stream_shape_gives_its_text_and_its_end() {
        let text = |s: &str| Some(Piece::Text(s.to_owned()));
        for (kind, line, expected) in [
            (
                Kind::Anthropic,
                r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
                text("Hi"),
            ),
            (
                Kind::Anthropic,
                r#"data: {"type":"message_stop"}"#,
                Some(Piece::End),
            ),
            (Kind::Anthropic, "event: content_block_delta", None),
            (
                Kind::OpenAi,
                r#"data: {"choices":[{"delta":{"content":"Hi"}}]}"#,
                text("Hi"),
            ),
            (Kind::AzureOpenAi, "data: [DONE]", Some(Piece::End)),
            (
                Kind::GoogleGemini,
                r#"data: {"candidates":[{"content":{"parts":[{"text":"H"},{"text":"i"}]}}]}"#,
                text("Hi"),
            ),
            (
                Kind::Ollama,
                r#"{"message":{"role":"assistant","content":"Hi"},"done":false}"#,
                text("Hi"),
            ),
            (Kind::Ollama, r#"{"done":true}"#, Some(Piece::End)),
            (
                Kind::OpenAi,
                r#"data: {"error":{"message":"sk-leaked"}}"#,
                Some(Piece::Failed("The provider stopped with an error.".into())),
            ),
            (Kind::OpenAi, "", None),
        ] {
            assert_eq!(piece(kind, line), expected, "{kind:?}: {line}");
        }
    }
}
