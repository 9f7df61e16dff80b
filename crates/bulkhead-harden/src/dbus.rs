//! A minimal D-Bus client: enough to ask systemd to restart or reload a unit over the system bus
//! (`org.freedesktop.systemd1.Manager.RestartUnit`), which is how `--restart-daemon` restarts a
//! systemd-managed dockerd without running any program.
//!
//! It speaks the wire protocol directly over the bus's unix socket: SASL EXTERNAL
//! authentication, `Hello`, one method call with string arguments, and reading messages until
//! the reply arrives. Only what that needs is implemented (little-endian messages; string,
//! object-path and unsigned header fields; replies whose body is one string or object path).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// The system bus address: `DBUS_SYSTEM_BUS_ADDRESS` (`unix:path=/...`), else the standard
/// socket.
pub fn system_bus_path() -> String {
    std::env::var("DBUS_SYSTEM_BUS_ADDRESS")
        .ok()
        .and_then(|a| unix_path_of_address(&a))
        .unwrap_or_else(|| "/run/dbus/system_bus_socket".into())
}

/// The socket path of the first `unix:path=...` entry of a D-Bus address list.
pub fn unix_path_of_address(address: &str) -> Option<String> {
    address
        .split(';')
        .find_map(|part| part.strip_prefix("unix:"))
        .and_then(|kv| kv.split(',').find_map(|p| p.strip_prefix("path=")))
        .map(String::from)
}

/// A decoded message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// 1 method call, 2 method return, 3 error, 4 signal.
    pub kind: u8,
    pub serial: u32,
    pub reply_serial: Option<u32>,
    pub path: Option<String>,
    pub interface: Option<String>,
    pub member: Option<String>,
    pub error_name: Option<String>,
    pub sender: Option<String>,
    pub destination: Option<String>,
    pub signature: Option<String>,
    /// Body arguments, in order (strings, object paths and unsigned integers; decoding stops at
    /// any other type).
    pub args: Vec<Arg>,
}

/// One body argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Str(String),
    ObjectPath(String),
    U32(u32),
}

impl Arg {
    fn code(&self) -> char {
        match self {
            Arg::Str(_) => 's',
            Arg::ObjectPath(_) => 'o',
            Arg::U32(_) => 'u',
        }
    }

    /// The text of a string or object path.
    pub fn text(&self) -> Option<&str> {
        match self {
            Arg::Str(s) | Arg::ObjectPath(s) => Some(s),
            Arg::U32(_) => None,
        }
    }
}

impl Message {
    /// The first argument's text (a reply's object path, an error's message).
    pub fn first_text(&self) -> Option<&str> {
        self.args.first().and_then(Arg::text)
    }
}

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn align(&mut self, n: usize) {
        self.buf.resize(self.buf.len().div_ceil(n) * n, 0);
    }
    fn u32(&mut self, v: u32) {
        self.align(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn string(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }
    fn signature(&mut self, s: &str) {
        self.buf.push(s.len() as u8);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }
    /// One header field: (code, variant of a string-like type).
    fn field(&mut self, code: u8, sig: &str, value: &str) {
        self.align(8);
        self.buf.push(code);
        self.signature(sig);
        if sig == "g" {
            self.signature(value);
        } else {
            self.string(value);
        }
    }
    fn field_u32(&mut self, code: u8, value: u32) {
        self.align(8);
        self.buf.push(code);
        self.signature("u");
        self.u32(value);
    }
}

/// Encode a message.
pub fn encode(m: &Message) -> Vec<u8> {
    let mut body = Writer { buf: Vec::new() };
    for a in &m.args {
        match a {
            Arg::Str(s) | Arg::ObjectPath(s) => body.string(s),
            Arg::U32(v) => body.u32(*v),
        }
    }
    let mut w = Writer { buf: Vec::new() };
    w.buf.extend_from_slice(&[b'l', m.kind, 0, 1]);
    w.u32(body.buf.len() as u32);
    w.u32(m.serial);
    // Header field array: length placeholder, then the fields.
    w.u32(0);
    let start = w.buf.len();
    if let Some(p) = &m.path {
        w.field(1, "o", p);
    }
    if let Some(i) = &m.interface {
        w.field(2, "s", i);
    }
    if let Some(x) = &m.member {
        w.field(3, "s", x);
    }
    if let Some(e) = &m.error_name {
        w.field(4, "s", e);
    }
    if let Some(r) = m.reply_serial {
        w.field_u32(5, r);
    }
    if let Some(d) = &m.destination {
        w.field(6, "s", d);
    }
    if !m.args.is_empty() {
        let sig: String = m.args.iter().map(Arg::code).collect();
        w.field(8, "g", &sig);
    }
    let len = (w.buf.len() - start) as u32;
    w.buf[12..16].copy_from_slice(&len.to_le_bytes());
    w.align(8);
    w.buf.extend_from_slice(&body.buf);
    w.buf
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn align(&mut self, n: usize) {
        self.pos = self.pos.div_ceil(n) * n;
    }
    fn u8(&mut self) -> Result<u8, String> {
        let v = *self.b.get(self.pos).ok_or("message too short")?;
        self.pos += 1;
        Ok(v)
    }
    fn u32(&mut self) -> Result<u32, String> {
        self.align(4);
        let s = self
            .b
            .get(self.pos..self.pos + 4)
            .ok_or("message too short")?;
        self.pos += 4;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn string(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        let s = self
            .b
            .get(self.pos..self.pos + n)
            .ok_or("message too short")?;
        self.pos += n + 1;
        Ok(String::from_utf8_lossy(s).into_owned())
    }
    fn signature(&mut self) -> Result<String, String> {
        let n = self.u8()? as usize;
        let s = self
            .b
            .get(self.pos..self.pos + n)
            .ok_or("message too short")?;
        self.pos += n + 1;
        Ok(String::from_utf8_lossy(s).into_owned())
    }
}

/// Decode one complete little-endian message.
pub fn decode(b: &[u8]) -> Result<Message, String> {
    if b.first() != Some(&b'l') {
        return Err("only little-endian messages are understood".into());
    }
    let mut r = Reader { b, pos: 1 };
    let mut m = Message {
        kind: r.u8()?,
        ..Default::default()
    };
    r.u8()?;
    r.u8()?;
    let body_len = r.u32()? as usize;
    m.serial = r.u32()?;
    let fields_len = r.u32()? as usize;
    let fields_end = r.pos + fields_len;
    while r.pos < fields_end {
        r.align(8);
        let code = r.u8()?;
        let sig = r.signature()?;
        match sig.as_str() {
            "s" | "o" => {
                let v = r.string()?;
                match code {
                    1 => m.path = Some(v),
                    2 => m.interface = Some(v),
                    3 => m.member = Some(v),
                    4 => m.error_name = Some(v),
                    6 => m.destination = Some(v),
                    7 => m.sender = Some(v),
                    _ => {}
                }
            }
            "g" => {
                let v = r.signature()?;
                if code == 8 {
                    m.signature = Some(v);
                }
            }
            "u" => {
                let v = r.u32()?;
                if code == 5 {
                    m.reply_serial = Some(v);
                }
            }
            other => return Err(format!("unexpected header field type {other}")),
        }
    }
    r.pos = fields_end;
    r.align(8);
    let body_start = r.pos;
    if b.len() < body_start + body_len {
        return Err("message too short".into());
    }
    if let Some(sig) = m.signature.clone() {
        let mut br = Reader {
            b: &b[..body_start + body_len],
            pos: body_start,
        };
        for c in sig.chars() {
            match c {
                's' => m.args.push(Arg::Str(br.string()?)),
                'o' => m.args.push(Arg::ObjectPath(br.string()?)),
                'g' => m.args.push(Arg::Str(br.signature()?)),
                'u' => m.args.push(Arg::U32(br.u32()?)),
                _ => break,
            }
        }
    }
    Ok(m)
}

/// Total length of the message whose first 16 bytes are `head`.
fn message_len(head: &[u8; 16]) -> usize {
    let body = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    let fields = u32::from_le_bytes([head[12], head[13], head[14], head[15]]) as usize;
    (16 + fields).div_ceil(8) * 8 + body
}

/// A connection to a bus.
pub struct Connection {
    stream: BufReader<UnixStream>,
    serial: u32,
    /// The unique name the bus gave us.
    pub name: String,
}

impl Connection {
    /// Connect to the bus socket at `path`, authenticate as this process's uid, say Hello.
    pub fn open(path: &str, timeout: Duration) -> Result<Connection, String> {
        let s = UnixStream::connect(path)
            .map_err(|e| format!("cannot connect to the bus at {path}: {e}"))?;
        s.set_read_timeout(Some(timeout)).ok();
        s.set_write_timeout(Some(timeout)).ok();
        let mut stream = BufReader::new(s);
        // SAFETY: geteuid has no preconditions.
        let uid = unsafe { libc::geteuid() }.to_string();
        let hex: String = uid.bytes().map(|b| format!("{b:02x}")).collect();
        let w = stream.get_mut();
        w.write_all(b"\0")
            .and_then(|_| write!(w, "AUTH EXTERNAL {hex}\r\n"))
            .map_err(|e| format!("bus authentication: {e}"))?;
        let mut line = String::new();
        stream
            .read_line(&mut line)
            .map_err(|e| format!("bus authentication: {e}"))?;
        if !line.starts_with("OK ") {
            return Err(format!("the bus refused authentication: {}", line.trim()));
        }
        stream
            .get_mut()
            .write_all(b"BEGIN\r\n")
            .map_err(|e| format!("bus authentication: {e}"))?;
        let mut c = Connection {
            stream,
            serial: 0,
            name: String::new(),
        };
        let reply = c.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "Hello",
            &[],
        )?;
        c.name = reply.first_text().unwrap_or_default().to_string();
        Ok(c)
    }

    pub fn send(&mut self, mut m: Message) -> Result<u32, String> {
        self.serial += 1;
        m.serial = self.serial;
        self.stream
            .get_mut()
            .write_all(&encode(&m))
            .map_err(|e| format!("writing to the bus: {e}"))?;
        Ok(m.serial)
    }

    /// Read the next message.
    pub fn read(&mut self) -> Result<Message, String> {
        let mut head = [0u8; 16];
        self.stream
            .read_exact(&mut head)
            .map_err(|e| format!("reading from the bus: {e}"))?;
        let mut all = head.to_vec();
        all.resize(message_len(&head), 0);
        self.stream
            .read_exact(&mut all[16..])
            .map_err(|e| format!("reading from the bus: {e}"))?;
        decode(&all)
    }

    /// Call a method with string arguments and wait for its reply; an error reply is an Err
    /// naming the error.
    pub fn call(
        &mut self,
        dest: &str,
        path: &str,
        iface: &str,
        member: &str,
        args: &[&str],
    ) -> Result<Message, String> {
        self.call_args(
            dest,
            path,
            iface,
            member,
            args.iter().map(|s| Arg::Str(s.to_string())).collect(),
        )
    }

    /// Call a method with any arguments and wait for its reply.
    pub fn call_args(
        &mut self,
        dest: &str,
        path: &str,
        iface: &str,
        member: &str,
        args: Vec<Arg>,
    ) -> Result<Message, String> {
        let serial = self.send(Message {
            kind: 1,
            path: Some(path.into()),
            interface: Some(iface.into()),
            member: Some(member.into()),
            destination: Some(dest.into()),
            args,
            ..Default::default()
        })?;
        loop {
            let m = self.read()?;
            if m.reply_serial != Some(serial) {
                continue;
            }
            return match m.kind {
                2 => Ok(m),
                3 => Err(format!(
                    "{}.{member}: {}{}",
                    iface,
                    m.error_name.clone().unwrap_or_default(),
                    m.first_text().map(|a| format!(": {a}")).unwrap_or_default()
                )),
                k => Err(format!("unexpected reply of type {k}")),
            };
        }
    }
}

/// Ask systemd to restart (or reload) `unit`; returns the job's object path.
pub fn systemd_unit_action(bus: &str, unit: &str, reload: bool) -> Result<String, String> {
    let mut c = Connection::open(bus, Duration::from_secs(30))?;
    let reply = c.call(
        "org.freedesktop.systemd1",
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager",
        if reload { "ReloadUnit" } else { "RestartUnit" },
        &[unit, "replace"],
    )?;
    Ok(reply.first_text().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let m = Message {
            kind: 1,
            serial: 7,
            path: Some("/org/freedesktop/systemd1".into()),
            interface: Some("org.freedesktop.systemd1.Manager".into()),
            member: Some("RestartUnit".into()),
            destination: Some("org.freedesktop.systemd1".into()),
            signature: Some("ssu".into()),
            args: vec![
                Arg::Str("docker.service".into()),
                Arg::Str("replace".into()),
                Arg::U32(7),
            ],
            ..Default::default()
        };
        let bytes = encode(&m);
        assert_eq!(bytes.len(), message_len(bytes[..16].try_into().unwrap()));
        assert_eq!(decode(&bytes).unwrap(), m);
    }

    #[test]
    fn bus_addresses() {
        assert_eq!(
            unix_path_of_address("tcp:host=x;unix:guid=1,path=/tmp/bus").as_deref(),
            Some("/tmp/bus")
        );
        assert_eq!(unix_path_of_address("unix:abstract=/tmp/x"), None);
    }
}
