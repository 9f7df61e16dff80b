//! daemon.json rules: CIS Docker section 2 settings as the file states them. A key that is
//! absent means dockerd's default, which is what these rules judge then (pointing at the top
//! of the object). TLS settings in the file count (the reference tool ignores them, PITFALLS 2).

use super::{DaemonRule, Out};
use crate::model::Safety;
use bulkhead_sources::yaml::{BoolDialect, Node};
use bulkhead_sources::Span;
use serde_json::json;

pub struct Ctx<'a> {
    pub root: &'a Node,
}

impl<'a> Ctx<'a> {
    fn get(&self, k: &str) -> Option<&'a Node> {
        self.root.get(k)
    }
    fn flag(&self, k: &str) -> Option<bool> {
        self.get(k)?.as_bool(BoolDialect::Core)
    }
    /// The opening brace: where a missing key is reported.
    fn top(&self) -> Span {
        let s = self.root.span.start;
        Span::new(s, s)
    }
    fn at(&self, k: &str) -> Span {
        self.get(k).map(|n| n.span).unwrap_or(self.top())
    }
}

pub const REGISTRY: &[(&str, DaemonRule)] = &[
    ("daemon-icc", icc),
    ("daemon-log-level", log_level),
    ("daemon-iptables", iptables),
    ("daemon-insecure-registries", insecure_registries),
    ("daemon-aufs", aufs),
    ("daemon-tcp-no-tls", tcp_no_tls),
    ("daemon-default-ulimits", default_ulimits),
    ("daemon-userns-remap", userns_remap),
    ("daemon-cgroup-parent", cgroup_parent),
    ("daemon-authorization-plugins", authorization_plugins),
    ("daemon-remote-logging", remote_logging),
    ("daemon-no-new-privileges", no_new_privileges),
    ("daemon-live-restore", live_restore),
    ("daemon-userland-proxy", userland_proxy),
    ("daemon-seccomp-profile", seccomp_profile),
    ("daemon-experimental", experimental),
];

const OBJ: &str = "daemon.json";

/// How `key` is written when it is present but not a boolean (`"false"` in quotes, `0`), which
/// dockerd refuses ("cannot unmarshal string into Go struct field ... of type bool"); None when
/// it is absent or a boolean. Reading such a value as the word it spells would misquote the file.
fn not_a_boolean(c: &Ctx<'_>, key: &str) -> Option<String> {
    let n = c.get(key)?;
    if c.flag(key).is_some() {
        return None;
    }
    Some(match n.as_scalar() {
        Some(s) if s.style.is_plain() => s.value.clone(),
        Some(s) => format!("\"{}\"", s.value),
        None => "a list or an object".into(),
    })
}

/// Report `key` unless it holds `wanted`; fix by replacing the value or adding the key.
fn want_bool(
    c: &Ctx<'_>,
    out: &mut Out<'_>,
    rule: &'static str,
    key: &str,
    wanted: bool,
    default: bool,
    safety: Safety,
) {
    let value = c.flag(key);
    if let Some(written) = not_a_boolean(c, key) {
        let fix = out.json_set(&[key], json!(wanted));
        let h = out.hit(
            rule,
            c.at(key),
            OBJ,
            format!("\"{key}\": {written} is not a JSON boolean: dockerd refuses to start with this file"),
        );
        if let Some(e) = fix {
            h.fix(format!("set \"{key}\": {wanted}"), safety, vec![e]);
        }
        return;
    }
    if value.unwrap_or(default) == wanted {
        return;
    }
    let msg = match c.get(key) {
        Some(_) => format!("\"{key}\": {}", !wanted),
        None => format!("\"{key}\" is not set (default {default})"),
    };
    // The shared JSON editor: the value replaced in place, or the key added after the last one.
    let fix = out.json_set(&[key], json!(wanted));
    let h = out.hit(rule, c.at(key), OBJ, msg);
    if let Some(e) = fix {
        h.fix(format!("set \"{key}\": {wanted}"), safety, vec![e]);
    }
}

/// daemon-icc. dockerd refuses to start when icc is off while it may not manage iptables ("You
/// specified --iptables=false with --icc=false. ICC=false uses iptables to function"), also with
/// the default bridge disabled, so icc is judged together with the file's `iptables`:
///
/// - `"icc": false` with `"iptables": false` is a finding: the file does not start. The fix turns
///   iptables on (the same edit as daemon-iptables' fix, which the fix planner makes once).
/// - icc on (unset, true, or not a JSON boolean) with `"iptables": false`: the fix turns icc off
///   and iptables on in one fix, so that applying it alone never writes a refused file.
/// - `"bridge": "none"`: there is no default bridge for icc to act on (the host check 2.2 is not
///   applicable then), so icc left on is no finding.
///
/// A non-boolean `iptables` is daemon-iptables' finding (dockerd refuses the file for its type);
/// the fix of icc then sets iptables too, so that what it writes starts.
fn icc(c: &Ctx<'_>, out: &mut Out<'_>) {
    const RULE: &str = "daemon-icc";
    let iptables_off = c.flag("iptables") == Some(false);
    let iptables_unreadable = not_a_boolean(c, "iptables").is_some();
    let bridge_none = c.get("bridge").and_then(Node::as_str) == Some("none");
    let icc_written = not_a_boolean(c, "icc");
    if icc_written.is_none() && c.flag("icc") == Some(false) {
        if iptables_off {
            let edit = out.json_set(&["iptables"], json!(true));
            out.hit(
                RULE,
                c.at("icc"),
                OBJ,
                "\"icc\": false while \"iptables\": false: dockerd refuses to start with this file (blocking traffic between containers needs its iptables rules); set \"iptables\": true, as the daemon-iptables fix does",
            )
            .fix(
                "set \"iptables\": true",
                Safety::Review,
                edit.into_iter().collect(),
            );
        }
        return;
    }
    if bridge_none && icc_written.is_none() {
        return;
    }
    let msg = match (&icc_written, c.get("icc")) {
        (Some(w), _) => {
            format!("\"icc\": {w} is not a JSON boolean: dockerd refuses to start with this file")
        }
        (None, Some(_)) => "\"icc\": true".to_string(),
        (None, None) => "\"icc\" is not set (default true)".to_string(),
    };
    // With iptables off (or unreadable), icc=false alone would write a file dockerd refuses:
    // the fix turns iptables on too, or there is no fix.
    let needs_iptables = iptables_off || iptables_unreadable;
    let fix = match out.json_set(&["icc"], json!(false)) {
        Some(e) if !needs_iptables => Some(("set \"icc\": false", vec![e])),
        Some(e) => out
            .json_set(&["iptables"], json!(true))
            .map(|i| ("set \"icc\": false and \"iptables\": true", vec![e, i])),
        None => None,
    };
    let h = out.hit(RULE, c.at("icc"), OBJ, msg);
    if let Some((description, edits)) = fix {
        h.fix(description, Safety::Review, edits);
    }
}

fn log_level(c: &Ctx<'_>, out: &mut Out<'_>) {
    if let Some(n) = c.get("log-level") {
        let v = n.as_str().unwrap_or("");
        // dockerd reads the level without regard to case (`INFO` is info).
        if !v.eq_ignore_ascii_case("info") {
            let edit = out.json_set(&["log-level"], json!("info"));
            out.hit(
                "daemon-log-level",
                n.span,
                OBJ,
                format!("\"log-level\": \"{v}\""),
            )
            .fix(
                "set \"log-level\": \"info\"",
                Safety::Safe,
                edit.into_iter().collect(),
            );
        }
    }
}

fn iptables(c: &Ctx<'_>, out: &mut Out<'_>) {
    if let Some(written) = not_a_boolean(c, "iptables") {
        let edit = out.json_set(&["iptables"], json!(true));
        out.hit(
            "daemon-iptables",
            c.at("iptables"),
            OBJ,
            format!("\"iptables\": {written} is not a JSON boolean: dockerd refuses to start with this file"),
        )
        .fix(
            "set \"iptables\": true",
            Safety::Review,
            edit.into_iter().collect(),
        );
        return;
    }
    if c.flag("iptables") == Some(false) {
        let n = c.get("iptables").expect("read");
        let edit = out.json_set(&["iptables"], json!(true));
        out.hit("daemon-iptables", n.span, OBJ, "\"iptables\": false")
            .fix(
                "set \"iptables\": true",
                Safety::Review,
                edit.into_iter().collect(),
            );
    }
}

fn insecure_registries(c: &Ctx<'_>, out: &mut Out<'_>) {
    if let Some(list) = c.get("insecure-registries").and_then(Node::as_seq) {
        for n in list {
            let v = n.as_str().unwrap_or("");
            // Docker always treats 127.0.0.0/8 as insecure; listing it adds nothing.
            if v.starts_with("127.") || v.starts_with("localhost") {
                continue;
            }
            out.hit(
                "daemon-insecure-registries",
                n.span,
                OBJ,
                format!("insecure registry {v}"),
            );
        }
    }
}

fn aufs(c: &Ctx<'_>, out: &mut Out<'_>) {
    if let Some(n) = c.get("storage-driver") {
        if n.as_str() == Some("aufs") {
            out.hit("daemon-aufs", n.span, OBJ, "\"storage-driver\": \"aufs\"");
        }
    }
}

fn tcp_no_tls(c: &Ctx<'_>, out: &mut Out<'_>) {
    let hosts: Vec<&Node> = match c.get("hosts") {
        Some(n) => match n.as_seq() {
            Some(v) => v.iter().collect(),
            None => vec![n],
        },
        None => return,
    };
    let verify = c.flag("tlsverify") == Some(true);
    let has_material = ["tlscacert", "tlscert", "tlskey"]
        .iter()
        .all(|k| c.get(k).is_some());
    for h in hosts {
        let v = h.as_str().unwrap_or("");
        if v.starts_with("tcp://") && !(verify && has_material) {
            let why = if !verify {
                "tlsverify is not true"
            } else {
                "tlscacert, tlscert or tlskey is missing"
            };
            out.hit(
                "daemon-tcp-no-tls",
                h.span,
                OBJ,
                format!("TCP listener {v}: {why}"),
            );
        }
    }
}

fn default_ulimits(c: &Ctx<'_>, out: &mut Out<'_>) {
    if c.get("default-ulimits")
        .is_none_or(|n| n.as_map().is_none_or(|m| m.is_empty()))
    {
        out.hit(
            "daemon-default-ulimits",
            c.at("default-ulimits"),
            OBJ,
            "no \"default-ulimits\"",
        );
    }
}

fn userns_remap(c: &Ctx<'_>, out: &mut Out<'_>) {
    let set = c
        .get("userns-remap")
        .and_then(Node::as_str)
        .is_some_and(|v| !v.is_empty());
    if !set {
        out.hit(
            "daemon-userns-remap",
            c.at("userns-remap"),
            OBJ,
            "\"userns-remap\" is not set",
        );
    }
}

fn cgroup_parent(c: &Ctx<'_>, out: &mut Out<'_>) {
    if let Some(n) = c.get("cgroup-parent") {
        let v = n.as_str().unwrap_or("");
        if !v.is_empty() && v != "/docker" && v != "system.slice" {
            out.hit(
                "daemon-cgroup-parent",
                n.span,
                OBJ,
                format!("\"cgroup-parent\": \"{v}\""),
            );
        }
    }
}

fn authorization_plugins(c: &Ctx<'_>, out: &mut Out<'_>) {
    let set = c
        .get("authorization-plugins")
        .and_then(Node::as_seq)
        .is_some_and(|v| !v.is_empty());
    if !set {
        out.hit(
            "daemon-authorization-plugins",
            c.at("authorization-plugins"),
            OBJ,
            "no \"authorization-plugins\"",
        );
    }
}

fn remote_logging(c: &Ctx<'_>, out: &mut Out<'_>) {
    let driver = c
        .get("log-driver")
        .and_then(Node::as_str)
        .unwrap_or("json-file");
    if matches!(driver, "json-file" | "local" | "none" | "") {
        out.hit(
            "daemon-remote-logging",
            c.at("log-driver"),
            OBJ,
            format!("log driver {driver} keeps logs only on the host"),
        );
    }
}

fn no_new_privileges(c: &Ctx<'_>, out: &mut Out<'_>) {
    want_bool(
        c,
        out,
        "daemon-no-new-privileges",
        "no-new-privileges",
        true,
        false,
        Safety::Review,
    );
}

fn live_restore(c: &Ctx<'_>, out: &mut Out<'_>) {
    want_bool(
        c,
        out,
        "daemon-live-restore",
        "live-restore",
        true,
        false,
        Safety::Safe,
    );
}

/// daemon-userland-proxy. Without iptables rules the userland proxy is the only thing that
/// forwards a published port (dockerd started with both off still binds each port, so it looks
/// open, but no connection reaches the container). With `"iptables": false` (or a value dockerd
/// cannot read) the fix therefore turns iptables on as well, as the daemon-iptables fix does.
fn userland_proxy(c: &Ctx<'_>, out: &mut Out<'_>) {
    const RULE: &str = "daemon-userland-proxy";
    const KEY: &str = "userland-proxy";
    let needs_iptables =
        c.flag("iptables") == Some(false) || not_a_boolean(c, "iptables").is_some();
    if !needs_iptables || not_a_boolean(c, KEY).is_some() {
        want_bool(c, out, RULE, KEY, false, true, Safety::Review);
        return;
    }
    if c.flag(KEY) == Some(false) {
        return;
    }
    let msg = match c.get(KEY) {
        Some(_) => format!("\"{KEY}\": true"),
        None => format!("\"{KEY}\" is not set (default true)"),
    };
    let fix = out.json_set(&[KEY], json!(false)).and_then(|proxy| {
        out.json_set(&["iptables"], json!(true))
            .map(|iptables| vec![proxy, iptables])
    });
    let h = out.hit(RULE, c.at(KEY), OBJ, msg);
    if let Some(edits) = fix {
        h.fix(
            "set \"userland-proxy\": false and \"iptables\": true (without iptables nothing else forwards published ports)",
            Safety::Review,
            edits,
        );
    }
}

fn seccomp_profile(c: &Ctx<'_>, out: &mut Out<'_>) {
    if let Some(n) = c.get("seccomp-profile") {
        let v = n.as_str().unwrap_or("");
        if !v.is_empty() && v != "builtin" {
            out.hit(
                "daemon-seccomp-profile",
                n.span,
                OBJ,
                format!("\"seccomp-profile\": \"{v}\""),
            );
        }
    }
}

fn experimental(c: &Ctx<'_>, out: &mut Out<'_>) {
    if c.flag("experimental") == Some(true) {
        let n = c.get("experimental").expect("read");
        let edit = out.json_set(&["experimental"], json!(false));
        out.hit("daemon-experimental", n.span, OBJ, "\"experimental\": true")
            .fix(
                "set \"experimental\": false",
                Safety::Review,
                edit.into_iter().collect(),
            );
    }
}
