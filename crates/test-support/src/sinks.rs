//! Receivers on loopback for what the platform sends out: an SMTP server that keeps every
//! message it accepts ([`MailSink`]) and an HTTP server that keeps every request body, as an
//! SMS gateway would receive it ([`HttpSink`]). Both can be told to refuse the next few
//! deliveries with a temporary error, to test retries.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A listener on a free port of 127.0.0.1.
async fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a sink");
    let address = listener.local_addr().expect("a bound address");
    (listener, address)
}

/// Serves every connection with `serve`, each on its own task.
fn accept<F, Fut>(listener: TcpListener, serve: F)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
}

/// Whether to refuse this delivery (and count one refusal down).
fn refusing(refuse: &AtomicUsize) -> bool {
    refuse
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// A message the SMTP sink accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// `MAIL FROM` address.
    pub from: String,
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The message as sent (headers and body, dot-unstuffed).
    pub data: String,
}

impl ReceivedMail {
    /// A header's value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut lines = head.split("\r\n").peekable();
        while let Some(line) = lines.next() {
            if let Some((key, value)) = line.split_once(':')
                && key.eq_ignore_ascii_case(name)
            {
                let mut value = value.trim().to_owned();
                while lines
                    .peek()
                    .is_some_and(|l| l.starts_with(' ') || l.starts_with('\t'))
                {
                    value.push(' ');
                    value.push_str(lines.next().unwrap_or("").trim());
                }
                return Some(value);
            }
        }
        None
    }

    /// The body (after the blank line), decoded from base64 when so sent.
    pub fn body(&self) -> String {
        let raw = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let base64 = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("base64"));
        if base64 {
            String::from_utf8_lossy(&decode_base64(raw)).into_owned()
        } else {
            raw.to_owned()
        }
    }
}

/// An SMTP server on 127.0.0.1 that accepts mail and keeps it.
#[derive(Clone)]
pub struct MailSink {
    /// Where it listens.
    pub address: SocketAddr,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    refuse: Arc<AtomicUsize>,
}

impl MailSink {
    /// Starts listening on a free port.
    pub async fn start() -> Self {
        let (listener, address) = listen().await;
        let sink = Self {
            address,
            received: Arc::default(),
            refuse: Arc::default(),
        };
        let served = sink.clone();
        accept(listener, move |stream| {
            let sink = served.clone();
            async move { sink.session(stream).await }
        });
        sink
    }

    /// Refuses the next `n` messages with `451` (try again later).
    pub fn refuse_next(&self, n: usize) {
        self.refuse.store(n, Ordering::SeqCst);
    }

    /// Every message accepted so far.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.received.lock().expect("the sink's lock").clone()
    }

    async fn session(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink.test ESMTP\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_owned();
            let upper = command.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 OK\r\n"
            } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                b"250 OK\r\n"
            } else if upper.starts_with("RSET") {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                from = address_in(&command);
                to.clear();
                b"250 OK\r\n"
            } else if upper.starts_with("RCPT TO:") {
                to.push(address_in(&command));
                b"250 OK\r\n"
            } else if upper == "DATA" {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                if refusing(&self.refuse) {
                    b"451 4.3.0 try again later\r\n"
                } else {
                    self.received
                        .lock()
                        .expect("the sink's lock")
                        .push(ReceivedMail {
                            from: from.clone(),
                            to: to.clone(),
                            data: data.trim_end_matches("\r\n").to_owned(),
                        });
                    b"250 OK queued\r\n"
                }
            } else if upper.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                b"502 command not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
    }
}

/// Decodes standard base64, skipping line breaks and padding.
fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let (mut out, mut bits, mut count) = (Vec::new(), 0u32, 0);
    for sextet in text.bytes().filter_map(value) {
        bits = (bits << 6) | u32::from(sextet);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

fn address_in(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

/// A request the HTTP sink received.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    /// Method and path, e.g. `POST /sms/send`.
    pub line: String,
    /// The body, as text.
    pub body: String,
}

/// An HTTP/1.1 server on 127.0.0.1 that answers 200 to every request and keeps it.
#[derive(Clone)]
pub struct HttpSink {
    /// Where it listens.
    pub address: SocketAddr,
    received: Arc<Mutex<Vec<ReceivedRequest>>>,
    refuse: Arc<AtomicUsize>,
}

impl HttpSink {
    /// Starts listening on a free port.
    pub async fn start() -> Self {
        let (listener, address) = listen().await;
        let sink = Self {
            address,
            received: Arc::default(),
            refuse: Arc::default(),
        };
        let served = sink.clone();
        accept(listener, move |stream| {
            let sink = served.clone();
            async move { sink.connection(stream).await }
        });
        sink
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Answers the next `n` requests with `503`.
    pub fn refuse_next(&self, n: usize) {
        self.refuse.store(n, Ordering::SeqCst);
    }

    /// Every request accepted so far.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.received.lock().expect("the sink's lock").clone()
    }

    async fn connection(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).await? == 0 {
                return Ok(());
            }
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).await? == 0 {
                    return Ok(());
                }
                if header == "\r\n" {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).await?;
            let reply: &[u8] = if refusing(&self.refuse) {
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"
            } else {
                self.received
                    .lock()
                    .expect("the sink's lock")
                    .push(ReceivedRequest {
                        line: request_line
                            .split_whitespace()
                            .take(2)
                            .collect::<Vec<_>>()
                            .join(" "),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}"
            };
            write.write_all(reply).await?;
        }
    }
}
