//! What the kubelet's own decoder accepts in a `--config` file or a `--config-dir` drop-in.
//!
//! A file that parses as YAML can still be one the kubelet refuses to start with, and then the
//! running kubelet read some other version of it: its settings are unknown, not the values
//! written, nor the defaults. The kubelet reads its files with sigs.k8s.io/yaml (YAML turned into
//! JSON by go-yaml v2, so YAML 1.1 plain scalars such as `no`, `off`, `y` are booleans and
//! `0755` is octal) and decodes that JSON into the typed KubeletConfiguration:
//!
//! - `--config` is decoded alone, as a `kubelet.config.k8s.io/v1beta1` `KubeletConfiguration`
//!   (the only version of the group that has that kind); without `apiVersion` or `kind`, or with
//!   another one, the kubelet does not start. Unknown fields and duplicate keys only cost a
//!   warning (v1beta1 falls back to lenient decoding), but a value of the wrong JSON type fails
//!   even the lenient decoder: a quoted `"false"` for a boolean, `"0"` for a port, a bare number
//!   for a duration.
//! - drop-ins need `kind` on every Kubernetes version that reads them, and since 1.32 the same
//!   `apiVersion` and `kind` as `--config`. They are merged as JSON (later files win key by key)
//!   and the typed decoding happens on the merged result, so a mistyped value counts only when no
//!   later drop-in sets the same key ([`Mistyped::path`] lets the caller tell).
//!
//! [`decode`] reports the first reason the whole file is refused, and every mistyped value with
//! the line it is on; both say what to change for the kubelet to accept the file. Fields are
//! checked against the v1beta1 schema; fields the schema does not know are not judged, as the
//! kubelet ignores them. [`replaces`] and [`refusal`] weigh mistyped values the same way for
//! every reader (the audit's collector, and `harden` projecting the files it edits).

use crate::yaml::{self, Node, NodeKind, Schema};
use serde_json::Value;
use std::fmt;

/// The version and kind the kubelet decodes its configuration files as.
pub const API_VERSION: &str = "kubelet.config.k8s.io/v1beta1";
pub const KIND: &str = "KubeletConfiguration";

/// Which of the kubelet's files is being read: they are decoded differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The file named by `--config`, decoded on its own.
    Config,
    /// A `*.conf` file of `--config-dir`, merged with the others before it is decoded.
    DropIn,
}

/// A file the kubelet can load, as JSON, and the values in it the kubelet cannot decode.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub value: Value,
    pub mistyped: Vec<Mistyped>,
}

/// Why the kubelet refuses a whole file, whatever else it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// Line and column of what is refused; `None` when the file holds nothing to point at.
    pub at: Option<(u32, u32)>,
    pub reason: String,
    /// What to change by hand for the kubelet to accept the file.
    pub correction: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((line, column)) => write!(f, "line {line}, column {column}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for Refused {}

/// Readers that keep errors as text get the same `line L, column C: ...` form parse errors use.
impl From<Refused> for String {
    fn from(r: Refused) -> String {
        r.to_string()
    }
}

/// A value whose JSON type the kubelet's decoder refuses.
#[derive(Debug, Clone, PartialEq)]
pub struct Mistyped {
    /// The keys leading to it (`authentication`, `anonymous`, `enabled`).
    pub path: Vec<String>,
    pub line: u32,
    pub column: u32,
    pub reason: String,
    /// What to write instead (`write maxPods as 110, without quotes`).
    pub correction: String,
}

impl Mistyped {
    /// Where it is and why the kubelet refuses it, in the form parse errors use.
    pub fn describe(&self) -> String {
        format!(
            "line {}, column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

/// The JSON type a KubeletConfiguration field decodes from.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Bool,
    Int32,
    Int64,
    Float,
    Str,
    /// A `metav1.Duration`: a string Go's `time.ParseDuration` accepts.
    Duration,
    List(&'static Kind),
    /// A mapping from names to values of one kind (`featureGates`, `evictionHard`).
    Map(&'static Kind),
    /// A structure with these fields (others are ignored).
    Object(&'static [(&'static str, Kind)]),
    /// Not judged: decoded by types of their own (`logging`, `tracing`, quantities).
    Any,
}

const STR_LIST: Kind = Kind::List(&Kind::Str);
const STR_MAP: Kind = Kind::Map(&Kind::Str);

/// KubeletConfiguration (kubelet.config.k8s.io/v1beta1), field by field.
const FIELDS: &[(&str, Kind)] = &[
    ("enableServer", Kind::Bool),
    ("staticPodPath", Kind::Str),
    ("podLogsDir", Kind::Str),
    ("syncFrequency", Kind::Duration),
    ("fileCheckFrequency", Kind::Duration),
    ("httpCheckFrequency", Kind::Duration),
    ("staticPodURL", Kind::Str),
    ("staticPodURLHeader", Kind::Map(&STR_LIST)),
    ("address", Kind::Str),
    ("port", Kind::Int32),
    ("readOnlyPort", Kind::Int32),
    ("tlsCertFile", Kind::Str),
    ("tlsPrivateKeyFile", Kind::Str),
    ("tlsCipherSuites", STR_LIST),
    ("tlsCurvePreferences", Kind::List(&Kind::Int32)),
    ("tlsMinVersion", Kind::Str),
    ("rotateCertificates", Kind::Bool),
    ("serverTLSBootstrap", Kind::Bool),
    (
        "authentication",
        Kind::Object(&[
            ("x509", Kind::Object(&[("clientCAFile", Kind::Str)])),
            (
                "webhook",
                Kind::Object(&[("enabled", Kind::Bool), ("cacheTTL", Kind::Duration)]),
            ),
            ("anonymous", Kind::Object(&[("enabled", Kind::Bool)])),
        ]),
    ),
    (
        "authorization",
        Kind::Object(&[
            ("mode", Kind::Str),
            (
                "webhook",
                Kind::Object(&[
                    ("cacheAuthorizedTTL", Kind::Duration),
                    ("cacheUnauthorizedTTL", Kind::Duration),
                ]),
            ),
        ]),
    ),
    ("registryPullQPS", Kind::Int32),
    ("registryBurst", Kind::Int32),
    ("imagePullCredentialsVerificationPolicy", Kind::Str),
    ("preloadedImagesVerificationAllowlist", STR_LIST),
    ("eventRecordQPS", Kind::Int32),
    ("eventBurst", Kind::Int32),
    ("enableDebuggingHandlers", Kind::Bool),
    ("enableContentionProfiling", Kind::Bool),
    ("healthzPort", Kind::Int32),
    ("healthzBindAddress", Kind::Str),
    ("oomScoreAdj", Kind::Int32),
    ("clusterDomain", Kind::Str),
    ("clusterDNS", STR_LIST),
    ("streamingConnectionIdleTimeout", Kind::Duration),
    ("nodeStatusUpdateFrequency", Kind::Duration),
    ("nodeStatusReportFrequency", Kind::Duration),
    ("nodeLeaseDurationSeconds", Kind::Int32),
    ("imageMinimumGCAge", Kind::Duration),
    ("imageMaximumGCAge", Kind::Duration),
    ("imageGCHighThresholdPercent", Kind::Int32),
    ("imageGCLowThresholdPercent", Kind::Int32),
    ("volumeStatsAggPeriod", Kind::Duration),
    ("kubeletCgroups", Kind::Str),
    ("systemCgroups", Kind::Str),
    ("cgroupRoot", Kind::Str),
    ("cgroupsPerQOS", Kind::Bool),
    ("cgroupDriver", Kind::Str),
    ("cpuManagerPolicy", Kind::Str),
    ("singleProcessOOMKill", Kind::Bool),
    ("cpuManagerPolicyOptions", STR_MAP),
    ("cpuManagerReconcilePeriod", Kind::Duration),
    ("draManagerReconcilePeriod", Kind::Duration),
    ("memoryManagerPolicy", Kind::Str),
    ("topologyManagerPolicy", Kind::Str),
    ("topologyManagerScope", Kind::Str),
    ("topologyManagerPolicyOptions", STR_MAP),
    ("qosReserved", STR_MAP),
    ("runtimeRequestTimeout", Kind::Duration),
    ("hairpinMode", Kind::Str),
    ("maxPods", Kind::Int32),
    ("podCIDR", Kind::Str),
    ("podPidsLimit", Kind::Int64),
    ("resolvConf", Kind::Str),
    ("runOnce", Kind::Bool),
    ("cpuCFSQuota", Kind::Bool),
    ("cpuCFSQuotaPeriod", Kind::Duration),
    ("nodeStatusMaxImages", Kind::Int32),
    ("maxOpenFiles", Kind::Int64),
    ("contentType", Kind::Str),
    ("kubeAPIQPS", Kind::Int32),
    ("kubeAPIBurst", Kind::Int32),
    ("serializeImagePulls", Kind::Bool),
    ("maxParallelImagePulls", Kind::Int32),
    ("evictionHard", STR_MAP),
    ("evictionSoft", STR_MAP),
    ("evictionSoftGracePeriod", STR_MAP),
    ("evictionPressureTransitionPeriod", Kind::Duration),
    ("evictionMaxPodGracePeriod", Kind::Int32),
    ("evictionMinimumReclaim", STR_MAP),
    ("mergeDefaultEvictionSettings", Kind::Bool),
    ("podsPerCore", Kind::Int32),
    ("enableControllerAttachDetach", Kind::Bool),
    ("protectKernelDefaults", Kind::Bool),
    ("makeIPTablesUtilChains", Kind::Bool),
    ("iptablesMasqueradeBit", Kind::Int32),
    ("iptablesDropBit", Kind::Int32),
    ("featureGates", Kind::Map(&Kind::Bool)),
    ("failSwapOn", Kind::Bool),
    ("memorySwap", Kind::Object(&[("swapBehavior", Kind::Str)])),
    ("containerLogMaxSize", Kind::Str),
    ("containerLogMaxFiles", Kind::Int32),
    ("containerLogMaxWorkers", Kind::Int32),
    ("containerLogMonitorInterval", Kind::Duration),
    ("configMapAndSecretChangeDetectionStrategy", Kind::Str),
    ("systemReserved", STR_MAP),
    ("kubeReserved", STR_MAP),
    ("reservedSystemCPUs", Kind::Str),
    ("showHiddenMetricsForVersion", Kind::Str),
    ("systemReservedCgroup", Kind::Str),
    ("kubeReservedCgroup", Kind::Str),
    ("enforceNodeAllocatable", STR_LIST),
    ("allowedUnsafeSysctls", STR_LIST),
    ("volumePluginDir", Kind::Str),
    ("providerID", Kind::Str),
    ("kernelMemcgNotification", Kind::Bool),
    ("logging", Kind::Any),
    ("enableSystemLogHandler", Kind::Bool),
    ("enableSystemLogQuery", Kind::Bool),
    ("shutdownGracePeriod", Kind::Duration),
    ("shutdownGracePeriodCriticalPods", Kind::Duration),
    (
        "shutdownGracePeriodByPodPriority",
        Kind::List(&Kind::Object(&[
            ("priority", Kind::Int32),
            ("shutdownGracePeriodSeconds", Kind::Int64),
        ])),
    ),
    (
        "crashLoopBackOff",
        Kind::Object(&[("maxContainerRestartPeriod", Kind::Duration)]),
    ),
    (
        "reservedMemory",
        Kind::List(&Kind::Object(&[
            ("numaNode", Kind::Int32),
            // Quantities decode from numbers and strings alike.
            ("limits", Kind::Any),
        ])),
    ),
    ("enableProfilingHandler", Kind::Bool),
    ("enableDebugFlagsHandler", Kind::Bool),
    ("seccompDefault", Kind::Bool),
    ("memoryThrottlingFactor", Kind::Float),
    ("memoryReservationPolicy", Kind::Str),
    (
        "registerWithTaints",
        Kind::List(&Kind::Object(&[
            ("key", Kind::Str),
            ("value", Kind::Str),
            ("effect", Kind::Str),
        ])),
    ),
    ("registerNode", Kind::Bool),
    ("tracing", Kind::Any),
    ("localStorageCapacityIsolation", Kind::Bool),
    ("containerRuntimeEndpoint", Kind::Str),
    ("imageServiceEndpoint", Kind::Str),
    ("failCgroupV1", Kind::Bool),
    (
        "userNamespaces",
        Kind::Object(&[("idsPerPod", Kind::Int64)]),
    ),
];

/// Read a kubelet configuration file as the kubelet does. An error (`line L, column C: ...`)
/// means the kubelet refuses the whole file whatever else it holds: it does not parse, it holds
/// no mapping, or its `apiVersion` or `kind` is missing or not the kubelet's. Mistyped values
/// are returned with the document, for the caller to weigh (see the module documentation).
pub fn decode(text: &str, role: Role) -> Result<Decoded, Refused> {
    let header = format!("`apiVersion: {API_VERSION}` and `kind: {KIND}`");
    let docs = yaml::parse(text).map_err(|e| Refused {
        at: Some((e.line, e.column)),
        reason: e.message,
        correction: "correct the YAML (or JSON) there".into(),
    })?;
    let doc = docs.into_iter().next().ok_or_else(|| Refused {
        at: None,
        reason: "the file holds no document (the kubelet refuses an empty one)".into(),
        correction: format!("write the kubelet's settings in it under {header}"),
    })?;
    let root = &doc.root;
    let at = |n: &Node| Some((n.span.start.line, n.span.start.column));
    if !root.is_map() {
        return Err(Refused {
            at: at(root),
            reason: "the document is not a mapping of settings, so the kubelet cannot decode it"
                .into(),
            correction: format!("make it a mapping of KubeletConfiguration fields under {header}"),
        });
    }
    let missing: Vec<String> = [("apiVersion", API_VERSION), ("kind", KIND)]
        .iter()
        .filter(|(key, _)| type_meta(root, key, role).is_none())
        .map(|(key, want)| format!("`{key}: {want}`"))
        .collect();
    for (key, want) in [("apiVersion", API_VERSION), ("kind", KIND)] {
        match type_meta(root, key, role) {
            None => {
                let reads = match (role, key) {
                    (Role::Config, _) => "decodes its --config file",
                    (Role::DropIn, "kind") => "merges a drop-in",
                    (Role::DropIn, _) => "(since Kubernetes 1.32) merges a drop-in",
                };
                return Err(Refused {
                    at: at(root),
                    reason: format!(
                        "the file has no {key}; the kubelet {reads} only as {API_VERSION} {KIND} \
                         and does not start without it"
                    ),
                    // Both lines at once: a file missing both would otherwise take two rounds.
                    correction: format!("add the top-level {}", missing.join(" and ")),
                });
            }
            Some(node) => {
                let actual = node.to_json(Schema::Yaml11);
                if actual.as_str() != Some(want) {
                    return Err(Refused {
                        at: at(node),
                        reason: format!(
                            "{key} is {}, but the kubelet accepts only {want} and does not start with this file",
                            shown(&actual)
                        ),
                        correction: format!("make {key} {want}"),
                    });
                }
            }
        }
    }
    let mut mistyped = Vec::new();
    let mut path = Vec::new();
    check_fields(root, FIELDS, &mut path, &mut mistyped);
    Ok(Decoded {
        value: root.to_json(Schema::Yaml11),
        mistyped,
    })
}

/// The node of `apiVersion` or `kind`, found as the kubelet finds it. For `--config` the version
/// and kind are read with Go's case-insensitive field matching (`Kind:` counts); a drop-in is
/// read as an unstructured object, whose kind is the exact key `kind`.
fn type_meta<'a>(root: &'a Node, key: &str, role: Role) -> Option<&'a Node> {
    let entries = root.as_map()?;
    entries
        .iter()
        .rev()
        .find(|(k, _)| {
            k.as_str().is_some_and(|name| match role {
                Role::Config => name.eq_ignore_ascii_case(key),
                Role::DropIn => name == key,
            })
        })
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

/// Check the entries of a mapping against a structure's fields. When a key is written twice,
/// only its last value reaches the decoder (go-yaml keeps the last), so only that one is judged.
fn check_fields(
    node: &Node,
    fields: &[(&str, Kind)],
    path: &mut Vec<String>,
    out: &mut Vec<Mistyped>,
) {
    let Some(entries) = node.as_map() else {
        return;
    };
    for (i, (k, v)) in entries.iter().enumerate() {
        let Some(name) = k.as_str() else { continue };
        if entries[i + 1..]
            .iter()
            .any(|(later, _)| later.as_str() == Some(name))
        {
            continue;
        }
        // Field names match case-sensitively; anything else is an unknown field, ignored.
        if let Some((_, kind)) = fields.iter().find(|(f, _)| *f == name) {
            path.push(name.to_string());
            check_value(v, *kind, path, out);
            path.pop();
        }
    }
}

fn check_value(node: &Node, kind: Kind, path: &mut Vec<String>, out: &mut Vec<Mistyped>) {
    if node.is_null() {
        // A null leaves the field as it was.
        return;
    }
    let json = || node.to_json(Schema::Yaml11);
    let expected = match kind {
        Kind::Any => None,
        Kind::Object(fields) => match &node.kind {
            NodeKind::Map(_) => {
                check_fields(node, fields, path, out);
                None
            }
            _ => Some("a mapping of settings"),
        },
        Kind::Map(of) => match node.as_map() {
            Some(entries) => {
                for (i, (k, v)) in entries.iter().enumerate() {
                    let Some(name) = k.as_str() else { continue };
                    if entries[i + 1..]
                        .iter()
                        .any(|(l, _)| l.as_str() == Some(name))
                    {
                        continue;
                    }
                    path.push(name.to_string());
                    check_value(v, *of, path, out);
                    path.pop();
                }
                None
            }
            None => Some("a mapping"),
        },
        Kind::List(of) => match node.as_seq() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    check_value(item, *of, path, out);
                    path.pop();
                }
                None
            }
            None => Some("a list"),
        },
        Kind::Bool => (!json().is_boolean()).then_some("a boolean (true or false, unquoted)"),
        Kind::Int32 => (!whole_number(&json(), i32::MIN.into(), i32::MAX.into()))
            .then_some("a whole number (32-bit, unquoted)"),
        Kind::Int64 => (!whole_number(&json(), i64::MIN, i64::MAX))
            .then_some("a whole number (64-bit, unquoted)"),
        Kind::Float => (!json().is_number()).then_some("a number (unquoted)"),
        Kind::Str => (!json().is_string()).then_some("a string (quote it)"),
        Kind::Duration => match json() {
            Value::String(s) if go_duration(&s) => None,
            Value::String(_) => Some("a Go duration such as \"4h0m0s\" or \"30s\""),
            _ => Some("a duration string such as \"4h0m0s\" (a bare number is not one)"),
        },
    };
    let Some(expected) = expected else { return };
    let actual = match &node.kind {
        NodeKind::Scalar(_) => shown(&json()),
        NodeKind::Seq(_) => "a list".to_string(),
        NodeKind::Map(_) => "a mapping".to_string(),
    };
    let dotted = path.join(".");
    let correction = match unquoted(kind, &json()) {
        Some(v) => format!("write {dotted} as {v}, without quotes"),
        None => format!("make {dotted} {expected}"),
    };
    out.push(Mistyped {
        path: path.clone(),
        line: node.span.start.line,
        column: node.span.start.column,
        reason: format!(
            "{dotted} is {actual}, but the kubelet decodes it as {expected} and does not start with this file"
        ),
        correction,
    });
}

/// The value a quoted `"false"` or `"110"` was meant to be, when the quotes are all that is
/// wrong: the most common mistake, and one whose correction can be spelled out.
fn unquoted(kind: Kind, v: &Value) -> Option<String> {
    let Value::String(s) = v else { return None };
    let s = s.trim();
    match kind {
        Kind::Bool => ["true", "false"]
            .into_iter()
            .find(|b| s.eq_ignore_ascii_case(b))
            .map(String::from),
        Kind::Int32 => s.parse::<i32>().ok().map(|n| n.to_string()),
        Kind::Int64 => s.parse::<i64>().ok().map(|n| n.to_string()),
        Kind::Float => s
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|_| s.to_string()),
        _ => None,
    }
}

/// Does a later drop-in holding `later` replace the value at `path` of an earlier file, in the
/// kubelet's JSON merge? Mappings merge key by key, anything else replaces whatever the earlier
/// file had below it. A null deletes the key in the merge, but readers that skip nulls keep the
/// earlier value, so it is not counted as replacing it.
pub fn replaces(later: &Value, path: &[String]) -> bool {
    let mut cur = later;
    for key in path {
        match cur.get(key) {
            None | Some(Value::Null) => return false,
            Some(v @ Value::Object(_)) => cur = v,
            Some(_) => return true,
        }
    }
    true
}

/// Why the kubelet refuses a file over the mistyped values that reach its decoder (all of a
/// `--config` file's, a drop-in's that no later drop-in [`replaces`]): the first, and how many
/// more there are. `None` when there are none.
pub fn refusal(mistyped: &[&Mistyped]) -> Option<String> {
    let first = mistyped.first()?;
    let more = match mistyped.len() - 1 {
        0 => String::new(),
        1 => " (and 1 more such value)".to_string(),
        n => format!(" (and {n} more such values)"),
    };
    Some(format!("{}{more}", first.describe()))
}

/// A JSON number the kubelet's decoder stores in an integer field. The YAML-to-JSON step writes
/// whole floats (`1.0`, `1e3`) as integers, so those count; fractions and overflows do not.
fn whole_number(v: &Value, min: i64, max: i64) -> bool {
    let Value::Number(n) = v else { return false };
    if let Some(i) = n.as_i64() {
        return (min..=max).contains(&i);
    }
    if n.is_u64() {
        return false;
    }
    n.as_f64()
        .is_some_and(|f| f.fract() == 0.0 && f >= min as f64 && f <= max as f64)
}

/// Does Go's `time.ParseDuration` accept `s`? A sign, then `0` alone or one or more numbers
/// (digits, an optional fraction) each followed by a unit: ns, us, µs, μs, ms, s, m, h.
pub fn go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    if s.is_empty() {
        return false;
    }
    let mut rest = s;
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let mut after = &rest[int_len..];
        let mut frac_len = 0;
        if let Some(f) = after.strip_prefix('.') {
            frac_len = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
            after = &f[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return false;
        }
        let unit_len = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        if !matches!(
            &after[..unit_len],
            "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h"
        ) {
            return false;
        }
        rest = &after[unit_len..];
    }
    true
}

/// A scalar as the decoder sees it, for messages: `the string "false"`, `the number 0`.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {s:?}"),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::Null => "null".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

    fn config(body: &str) -> Result<Decoded, String> {
        decode(&format!("{HEAD}{body}"), Role::Config).map_err(String::from)
    }

    /// The reasons of the mistyped values, as `dotted.path@line: reason`.
    fn mistyped(body: &str) -> Vec<String> {
        config(body)
            .unwrap()
            .mistyped
            .iter()
            .map(|m| format!("{}@{}", m.path.join("."), m.line))
            .collect()
    }

    #[test]
    fn yaml_1_1_booleans_are_booleans_as_for_go_yaml_v2() {
        // sigs.k8s.io/yaml converts with go-yaml v2: `no`, `off`, `n`, `On` are booleans.
        let d = config(
            "authentication:\n  anonymous:\n    enabled: no\n  webhook:\n    enabled: On\nserverTLSBootstrap: y\nrotateCertificates: off\n",
        )
        .unwrap();
        assert!(d.mistyped.is_empty(), "{:?}", d.mistyped);
        assert_eq!(
            d.value.pointer("/authentication/anonymous/enabled"),
            Some(&Value::Bool(false))
        );
        assert_eq!(d.value["serverTLSBootstrap"], Value::Bool(true));
        assert_eq!(d.value["rotateCertificates"], Value::Bool(false));
    }

    #[test]
    fn quoted_booleans_and_numbers_are_refused_with_their_line() {
        let d = config(
            "authentication:\n  anonymous:\n    enabled: \"false\"\nreadOnlyPort: \"0\"\nfeatureGates:\n  RotateKubeletServerCertificate: 'true'\n",
        )
        .unwrap();
        let got: Vec<String> = d.mistyped.iter().map(Mistyped::describe).collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(
            got[0],
            "line 5, column 14: authentication.anonymous.enabled is the string \"false\", but the kubelet decodes it as a boolean (true or false, unquoted) and does not start with this file"
        );
        assert!(
            got[1].starts_with("line 6, column 15: readOnlyPort is the string \"0\""),
            "{got:?}"
        );
        assert!(
            got[2].starts_with("line 8, column 35: featureGates.RotateKubeletServerCertificate is the string \"true\""),
            "{got:?}"
        );
    }

    #[test]
    fn durations_strings_numbers_and_lists_by_their_go_types() {
        assert_eq!(
            mistyped("streamingConnectionIdleTimeout: 0\n"),
            ["streamingConnectionIdleTimeout@3"],
            "a bare 0 is a number, and metav1.Duration decodes only strings"
        );
        assert!(mistyped("streamingConnectionIdleTimeout: \"0\"\nsyncFrequency: 1m30s\nimageMinimumGCAge: 1.5h\n").is_empty());
        assert_eq!(
            mistyped("streamingConnectionIdleTimeout: 5 minutes\n"),
            ["streamingConnectionIdleTimeout@3"]
        );
        assert_eq!(
            mistyped("tlsCipherSuites: TLS_AES_128_GCM_SHA256\nstaticPodPath: 1\nclusterDNS: [10.96.0.10, 7]\n"),
            ["tlsCipherSuites@3", "staticPodPath@4", "clusterDNS.1@5"]
        );
        // Whole floats are written as integers by the YAML-to-JSON step; fractions are not.
        assert!(mistyped("readOnlyPort: 0.0\nmaxPods: 1e2\npodPidsLimit: 0x1000\n").is_empty());
        assert_eq!(
            mistyped("maxPods: 1.5\nport: 99999999999\n"),
            ["maxPods@3", "port@4"]
        );
        // Unknown fields and wrongly cased ones are ignored, as by the kubelet.
        assert!(mistyped("readonlyPort: \"0\"\nsomethingNew: {a: 1}\n").is_empty());
        // A key written twice: only the last value is decoded.
        assert!(mistyped("readOnlyPort: \"0\"\nreadOnlyPort: 0\n").is_empty());
        assert_eq!(mistyped("authentication: true\n"), ["authentication@3"]);
    }

    #[test]
    fn version_and_kind_are_required() {
        let e = decode(
            "authentication:\n  anonymous:\n    enabled: false\n",
            Role::Config,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("line 1, column 1: the file has no apiVersion")
                && e.contains(API_VERSION),
            "{e}"
        );
        let e = decode(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nreadOnlyPort: 0\n",
            Role::DropIn,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("the file has no kind"), "{e}");
        // kubelet.config.k8s.io/v1 holds CredentialProviderConfig, not KubeletConfiguration.
        let e = decode(
            "apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n",
            Role::Config,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with(
                "line 1, column 13: apiVersion is the string \"kubelet.config.k8s.io/v1\""
            ),
            "{e}"
        );
        let e = decode(&format!("{HEAD}kind: KubeletConfig\n"), Role::Config)
            .unwrap_err()
            .to_string();
        assert!(e.contains("kind is the string \"KubeletConfig\""), "{e}");
        // --config finds them case-insensitively, a drop-in does not.
        let text = "APIVersion: kubelet.config.k8s.io/v1beta1\nKind: KubeletConfiguration\n";
        assert!(decode(text, Role::Config).is_ok());
        assert!(decode(text, Role::DropIn).is_err());
        // JSON is YAML.
        assert!(decode(
            r#"{"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "readOnlyPort": 0}"#,
            Role::Config
        )
        .is_ok());
        assert!(decode("# nothing\n", Role::Config).is_err());
        assert!(decode("- a\n", Role::Config).is_err());
    }

    /// Each refusal says what to change: the value without its quotes when that is all that is
    /// wrong, else the type the field needs; every missing header line at once.
    #[test]
    fn refusals_say_what_to_correct() {
        let d = config("maxPods: \"110\"\nauthentication:\n  anonymous:\n    enabled: 'False'\nstreamingConnectionIdleTimeout: 0\nport: \"x\"\n").unwrap();
        let got: Vec<&str> = d.mistyped.iter().map(|m| m.correction.as_str()).collect();
        assert_eq!(
            got,
            [
                "write maxPods as 110, without quotes",
                "write authentication.anonymous.enabled as false, without quotes",
                "make streamingConnectionIdleTimeout a duration string such as \"4h0m0s\" (a bare number is not one)",
                "make port a whole number (32-bit, unquoted)",
            ]
        );
        let e = decode("readOnlyPort: 0\n", Role::DropIn).unwrap_err();
        assert_eq!(e.at, Some((1, 1)));
        assert_eq!(
            e.correction,
            format!("add the top-level `apiVersion: {API_VERSION}` and `kind: {KIND}`")
        );
        let e = decode(
            "kind: KubeletConfiguration\nreadOnlyPort: 0\n",
            Role::DropIn,
        )
        .unwrap_err();
        assert_eq!(
            e.correction,
            format!("add the top-level `apiVersion: {API_VERSION}`")
        );
        let e = decode("", Role::Config).unwrap_err();
        assert_eq!(e.at, None);
        assert_eq!(
            e.to_string(),
            "the file holds no document (the kubelet refuses an empty one)"
        );
        let e = decode("a: [\n", Role::Config).unwrap_err();
        assert!(e.at.is_some() && e.to_string().starts_with("line "), "{e}");
    }

    /// A later drop-in replaces an earlier value when it sets the key, or anything above it that
    /// is not a mapping; the refusal names the first value and counts the others.
    #[test]
    fn later_drop_ins_and_refusals() {
        let path = |p: &str| p.split('.').map(String::from).collect::<Vec<_>>();
        let later = serde_json::json!({"featureGates": {"B": true}, "clusterDNS": ["10.0.0.1"], "readOnlyPort": null});
        assert!(replaces(&later, &path("featureGates.B")));
        assert!(!replaces(&later, &path("featureGates.A")));
        assert!(replaces(&later, &path("clusterDNS.1")));
        assert!(!replaces(&later, &path("readOnlyPort")));
        let d = config("readOnlyPort: \"0\"\nmaxPods: x\nport: y\n").unwrap();
        let all: Vec<&Mistyped> = d.mistyped.iter().collect();
        assert_eq!(refusal(&[]), None);
        assert_eq!(refusal(&all[..1]).unwrap(), all[0].describe(),);
        assert!(refusal(&all)
            .unwrap()
            .ends_with(" (and 2 more such values)"));
    }

    #[test]
    fn go_durations() {
        for ok in [
            "0",
            "4h0m0s",
            "30s",
            "1.5h",
            ".5s",
            "-1m",
            "100ms",
            "1h2m3s4ms5us6ns",
            "2µs",
        ] {
            assert!(go_duration(ok), "{ok}");
        }
        for bad in ["", "4", "1d", "s", ".s", "5 minutes", "1h 2m", "+"] {
            assert!(!go_duration(bad), "{bad}");
        }
    }
}
