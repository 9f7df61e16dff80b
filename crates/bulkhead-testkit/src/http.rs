//! A small synchronous HTTP/1.1 client for the Docker Engine API over a unix socket.
//!
//! The test harness needs only a handful of plain requests (ping, import an image, create and
//! start containers), so it speaks HTTP itself instead of pulling an async runtime into every
//! test that uses it. [`ApiClient`] opens one connection per request; [`KeepAlive`] reuses one
//! connection for many requests, which is what the benchmark's raw-API baseline measures.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A response: status code and the whole body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("response is not JSON ({e}): {}", self.text()))
    }

    /// `Ok(self)` for a 2xx status, else an error quoting the daemon's message.
    pub fn ok(self, what: &str) -> Result<Response, String> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(format!(
                "{what}: HTTP {}: {}",
                self.status,
                self.text().trim()
            ))
        }
    }
}

/// A request body and its content type.
pub struct Body<'a> {
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

impl<'a> Body<'a> {
    pub fn json(bytes: &'a [u8]) -> Self {
        Body {
            content_type: "application/json",
            bytes,
        }
    }
}

/// Engine API client: one fresh connection per request (`Connection: close`).
#[derive(Debug, Clone)]
pub struct ApiClient {
    socket: PathBuf,
    timeout: Duration,
}

impl ApiClient {
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        ApiClient {
            socket: socket.into(),
            timeout: Duration::from_secs(120),
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Send one request and read the whole response.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Body<'_>>,
    ) -> Result<Response, String> {
        let stream = UnixStream::connect(&self.socket)
            .map_err(|e| format!("connecting to {}: {e}", self.socket.display()))?;
        stream.set_read_timeout(Some(self.timeout)).ok();
        let mut conn = Connection::new(stream);
        conn.send(method, path, body, false)?;
        conn.read_response()
            .map_err(|e| format!("{method} {path}: {e}"))
    }

    pub fn get(&self, path: &str) -> Result<Response, String> {
        self.request("GET", path, None)
    }

    pub fn post_json(&self, path: &str, json: &serde_json::Value) -> Result<Response, String> {
        let bytes = serde_json::to_vec(json).expect("JSON serializes");
        self.request("POST", path, Some(Body::json(&bytes)))
    }

    pub fn post(&self, path: &str) -> Result<Response, String> {
        self.request("POST", path, None)
    }

    pub fn delete(&self, path: &str) -> Result<Response, String> {
        self.request("DELETE", path, None)
    }
}

/// One connection reused for many requests (HTTP keep-alive).
pub struct KeepAlive {
    conn: Connection,
}

impl KeepAlive {
    pub fn connect(socket: &Path) -> Result<Self, String> {
        let stream = UnixStream::connect(socket)
            .map_err(|e| format!("connecting to {}: {e}", socket.display()))?;
        stream.set_read_timeout(Some(Duration::from_secs(120))).ok();
        Ok(KeepAlive {
            conn: Connection::new(stream),
        })
    }

    pub fn get(&mut self, path: &str) -> Result<Response, String> {
        self.conn.send("GET", path, None, true)?;
        self.conn
            .read_response()
            .map_err(|e| format!("GET {path}: {e}"))
    }
}

struct Connection {
    reader: BufReader<UnixStream>,
}

impl Connection {
    fn new(stream: UnixStream) -> Self {
        Connection {
            reader: BufReader::with_capacity(64 * 1024, stream),
        }
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Body<'_>>,
        keep_alive: bool,
    ) -> Result<(), String> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: bulkhead-testkit\r\nConnection: {}\r\n",
            if keep_alive { "keep-alive" } else { "close" }
        );
        if let Some(b) = &body {
            head.push_str(&format!(
                "Content-Type: {}\r\nContent-Length: {}\r\n",
                b.content_type,
                b.bytes.len()
            ));
        } else if method == "POST" {
            head.push_str("Content-Length: 0\r\n");
        }
        head.push_str("\r\n");
        let stream = self.reader.get_mut();
        stream
            .write_all(head.as_bytes())
            .and_then(|_| match &body {
                Some(b) => stream.write_all(b.bytes),
                None => Ok(()),
            })
            .map_err(|e| format!("{method} {path}: writing request: {e}"))
    }

    fn read_response(&mut self) -> Result<Response, String> {
        let mut line = String::new();
        self.read_line(&mut line)?;
        // "HTTP/1.1 200 OK"
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("malformed status line {line:?}"))?;
        let mut content_length: Option<usize> = None;
        let mut chunked = false;
        loop {
            line.clear();
            self.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    content_length = v.parse().ok();
                } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.read_line(&mut line)?;
                let size_text = line.trim().split(';').next().unwrap_or("");
                let size = usize::from_str_radix(size_text, 16)
                    .map_err(|_| format!("malformed chunk size {line:?}"))?;
                if size == 0 {
                    // Trailers end with an empty line.
                    loop {
                        line.clear();
                        self.read_line(&mut line)?;
                        if line.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader
                    .read_exact(&mut body[start..])
                    .map_err(|e| format!("reading chunk: {e}"))?;
                line.clear();
                self.read_line(&mut line)?;
            }
        } else if let Some(n) = content_length {
            body.resize(n, 0);
            self.reader
                .read_exact(&mut body)
                .map_err(|e| format!("reading body: {e}"))?;
        } else if status != 204 && status != 304 {
            self.reader
                .read_to_end(&mut body)
                .map_err(|e| format!("reading body: {e}"))?;
        }
        Ok(Response { status, body })
    }

    fn read_line(&mut self, line: &mut String) -> Result<(), String> {
        match self.reader.read_line(line) {
            Ok(0) => Err("connection closed by the daemon".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(format!("reading response: {e}")),
        }
    }
}

/// Percent-encode a query value.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
