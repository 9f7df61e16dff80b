//! Command-line flags of Go daemons (dockerd, kube-apiserver, kubelet, etcd), parsed as pflag does.
//!
//! Forms accepted: `--flag=value`, `--flag value`, `-f value`, `-f=value`, boolean flags written
//! bare (`--live-restore`) or with `=true|false`. A flag may be repeated: [`Flags::last`] gives the
//! value that wins, [`Flags::all`] every occurrence (for flags such as `-H` that accumulate), and
//! [`Flags::list`] the comma-separated items of every occurrence.
//!
//! Whether `--flag value` consumes the next word depends on whether the flag is boolean, exactly as
//! in pflag; callers pass the boolean flag names of the program they parse.

use serde::{Deserialize, Serialize};

/// One flag occurrence in command-line order. `value` is `None` for a bare boolean flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagOccurrence {
    pub name: String,
    pub value: Option<String>,
    /// Where this occurrence was written when it is not on the process's own command line: the
    /// configuration file a wrapper turned into this flag (k3s's
    /// `/etc/rancher/k3s/config.yaml, line 4` for a `kube-apiserver-arg:` entry). None: the
    /// command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// Parsed flags of one process, in command-line order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flags {
    pub occurrences: Vec<FlagOccurrence>,
    /// Words that are not flags (sub-commands, positional arguments), in order.
    pub positional: Vec<String>,
}

/// How to read a program's flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlagSpec<'a> {
    /// Long names (without dashes) of boolean flags: they never take the following word.
    pub booleans: &'a [&'a str],
    /// Short aliases such as `("H", "host")`.
    pub short: &'a [(&'a str, &'a str)],
}

impl Flags {
    /// Parse `args` (without argv\[0\]).
    pub fn parse<S: AsRef<str>>(args: &[S], spec: FlagSpec<'_>) -> Flags {
        let mut out = Flags::default();
        let mut i = 0;
        let mut only_positional = false;
        while i < args.len() {
            let word = args[i].as_ref();
            i += 1;
            if only_positional {
                out.positional.push(word.to_string());
                continue;
            }
            if word == "--" {
                only_positional = true;
                continue;
            }
            let (body, is_short) = if let Some(b) = word.strip_prefix("--") {
                (b, false)
            } else if let Some(b) = word.strip_prefix('-').filter(|b| !b.is_empty()) {
                (b, true)
            } else {
                out.positional.push(word.to_string());
                continue;
            };
            let (raw_name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let name = if is_short {
                spec.short
                    .iter()
                    .find(|(s, _)| *s == raw_name)
                    .map(|(_, l)| l.to_string())
                    .unwrap_or_else(|| raw_name.to_string())
            } else {
                raw_name.to_string()
            };
            let value = if inline.is_some() {
                inline
            } else if spec.booleans.contains(&name.as_str()) {
                None
            } else if i < args.len() && !looks_like_flag(args[i].as_ref()) {
                i += 1;
                Some(args[i - 1].as_ref().to_string())
            } else {
                None
            };
            out.occurrences.push(FlagOccurrence {
                name,
                value,
                origin: None,
            });
        }
        out
    }

    /// Is the flag given at all?
    pub fn has(&self, name: &str) -> bool {
        self.occurrences.iter().any(|o| o.name == name)
    }

    /// The value that wins: the last occurrence. A bare boolean flag yields `"true"`, as pflag
    /// reads it.
    pub fn last(&self, name: &str) -> Option<String> {
        self.occurrences
            .iter()
            .rev()
            .find(|o| o.name == name)
            .map(|o| o.value.clone().unwrap_or_else(|| "true".to_string()))
    }

    /// Every value given for a repeatable flag, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.occurrences
            .iter()
            .filter(|o| o.name == name)
            .map(|o| o.value.clone().unwrap_or_else(|| "true".to_string()))
            .collect()
    }

    /// Items of a comma-list flag. pflag's string slices accumulate across occurrences, while plain
    /// string flags keep only the last; `accumulate` says which this flag is.
    pub fn list(&self, name: &str, accumulate: bool) -> Vec<String> {
        let values = if accumulate {
            self.all(name)
        } else {
            self.last(name).into_iter().collect()
        };
        values
            .iter()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Where the winning occurrence of `name` was written: `command line`, or its
    /// [`FlagOccurrence::origin`]. None when the flag is not given.
    pub fn origin(&self, name: &str) -> Option<&str> {
        self.occurrences
            .iter()
            .rev()
            .find(|o| o.name == name)
            .map(|o| o.origin.as_deref().unwrap_or(COMMAND_LINE))
    }

    /// Where every occurrence of `name` was written, in order, each place once (for flags whose
    /// occurrences accumulate): `command line`, `/etc/rancher/k3s/config.yaml, line 4`.
    pub fn origins(&self, name: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for o in self.occurrences.iter().filter(|o| o.name == name) {
            let at = o.origin.as_deref().unwrap_or(COMMAND_LINE);
            if !out.contains(&at) {
                out.push(at);
            }
        }
        out
    }

    /// A boolean flag's value, reading Go's `strconv.ParseBool` spellings. `None` when not given
    /// or not a valid boolean.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.last(name).and_then(|v| parse_go_bool(&v))
    }
}

/// The origin of a flag written on the process's own command line.
pub const COMMAND_LINE: &str = "command line";

fn looks_like_flag(word: &str) -> bool {
    word.len() > 1 && word.starts_with('-') && !word.starts_with("-=")
}

/// Go's `strconv.ParseBool`: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
pub fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: FlagSpec = FlagSpec {
        booleans: &["live-restore", "icc", "tlsverify"],
        short: &[("H", "host")],
    };

    fn parse(s: &str) -> Flags {
        let v: Vec<&str> = s.split_whitespace().collect();
        Flags::parse(&v, SPEC)
    }

    #[test]
    fn every_form() {
        let f = parse("-H fd:// --host=tcp://0.0.0.0:2376 --log-level debug --live-restore --icc=false --containerd=/run/containerd/containerd.sock");
        assert_eq!(f.all("host"), vec!["fd://", "tcp://0.0.0.0:2376"]);
        assert_eq!(f.last("log-level").as_deref(), Some("debug"));
        assert_eq!(f.bool("live-restore"), Some(true));
        assert_eq!(f.bool("icc"), Some(false));
        assert_eq!(
            f.last("containerd").as_deref(),
            Some("/run/containerd/containerd.sock")
        );
    }

    #[test]
    fn boolean_does_not_swallow_next_word() {
        let f = parse("--tlsverify sub");
        assert_eq!(f.bool("tlsverify"), Some(true));
        assert_eq!(f.positional, vec!["sub"]);
    }

    #[test]
    fn repeated_last_wins_and_lists() {
        let f = parse("--authorization-mode=AlwaysAllow --authorization-mode Node,RBAC");
        assert_eq!(f.last("authorization-mode").as_deref(), Some("Node,RBAC"));
        assert_eq!(f.list("authorization-mode", false), vec!["Node", "RBAC"]);
        assert_eq!(
            f.list("authorization-mode", true),
            vec!["AlwaysAllow", "Node", "RBAC"]
        );
    }

    #[test]
    fn value_starting_with_dash_is_not_taken() {
        let f = parse("--foo --bar=1");
        assert_eq!(f.last("foo").as_deref(), Some("true"));
        assert_eq!(f.last("bar").as_deref(), Some("1"));
    }
}
