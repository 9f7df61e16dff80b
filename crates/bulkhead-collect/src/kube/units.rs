//! The kubelet's systemd service as systemd assembles it: the unit file and its drop-ins, and the
//! environment they give the kubelet (`Environment=` assignments and the `EnvironmentFile=`
//! files), from which systemd expands `$KUBELET_KUBEADM_ARGS` and `$KUBELET_EXTRA_ARGS` into the
//! kubelet's command line. The command line in /proc is what the kubelet runs with; these tell
//! where each of its flags was written, and which files hold them (judged with the unit files).

use crate::hostfs::HostFs;
use bulkhead_facts::host::parse_env_file;
use std::collections::BTreeMap;

/// Directories systemd units live in, most important first: a unit or a drop-in in an earlier
/// directory hides one of the same name in a later one.
pub const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Every unit file and `.conf` drop-in of `units` found in any unit directory (hidden ones
/// included: each is a file that could hold the kubelet's command line).
pub fn unit_files(fs: &HostFs, units: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for dir in UNIT_DIRS {
        for unit in units {
            let base = format!("{dir}/{unit}");
            if fs.exists(&base) {
                out.push(base.clone());
            }
            let dropins = format!("{base}.d");
            for name in fs.read_dir(&dropins).unwrap_or_default() {
                if name.ends_with(".conf") {
                    out.push(format!("{dropins}/{name}"));
                }
            }
        }
    }
    out
}

/// The files systemd reads for `unit`, in the order it applies them: the unit file of the most
/// important directory, then the drop-ins sorted by file name (of two with the same name, the
/// one in the more important directory).
fn effective_order(fs: &HostFs, unit: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(main) = UNIT_DIRS
        .iter()
        .map(|d| format!("{d}/{unit}"))
        .find(|p| fs.exists(p))
    {
        out.push(main);
    }
    let mut dropins: BTreeMap<String, String> = BTreeMap::new();
    for dir in UNIT_DIRS {
        let d = format!("{dir}/{unit}.d");
        for name in fs.read_dir(&d).unwrap_or_default() {
            if name.ends_with(".conf") && !dropins.contains_key(&name) {
                dropins.insert(name.clone(), format!("{d}/{name}"));
            }
        }
    }
    out.extend(dropins.into_values());
    out
}

/// `Key=value` lines of the `[Service]` section, continuation lines joined.
fn service_directives(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut in_service = false;
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if pending.is_empty() && (line.starts_with('#') || line.starts_with(';')) {
            continue;
        }
        if let Some(body) = line.strip_suffix('\\') {
            pending.push_str(body);
            pending.push(' ');
            continue;
        }
        let line = if pending.is_empty() {
            line.to_string()
        } else {
            let joined = format!("{pending}{line}");
            pending.clear();
            joined
        };
        if line.starts_with('[') {
            in_service = line == "[Service]";
            continue;
        }
        if !in_service {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// The words of an `Environment=` value: separated by white space, each optionally quoted with
/// `"` or `'` (quotes removed, `\"` kept as a quote inside double quotes).
fn environment_words(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    let mut chars = value.chars();
    while let Some(ch) = chars.next() {
        match (quote, ch) {
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(ch);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            (None, c) => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(cur);
    }
    words
}

/// The environment systemd gives a unit's process, by where each variable is written: the unit
/// file or drop-in with the `Environment=` line, or the `EnvironmentFile=` file.
#[derive(Debug, Default)]
pub struct UnitEnvironment {
    /// File -> the variables it sets, in the order systemd applies them.
    pub sets: Vec<(String, BTreeMap<String, String>)>,
    /// Environment files the unit names that exist: (file, unit file naming it).
    pub env_files: Vec<(String, String)>,
}

/// Read the environment of the first of `units` that exists. An empty `Environment=` or
/// `EnvironmentFile=` resets what the files before it set, as systemd does.
pub fn environment(fs: &HostFs, units: &[&str]) -> UnitEnvironment {
    let Some(files) = units
        .iter()
        .map(|u| effective_order(fs, u))
        .find(|f| !f.is_empty())
    else {
        return UnitEnvironment::default();
    };
    let mut inline: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let mut env_files: Vec<(String, String)> = Vec::new();
    for file in &files {
        let Ok(text) = fs.read_to_string(file) else {
            continue;
        };
        for (key, value) in service_directives(&text) {
            match key.as_str() {
                "Environment" if value.is_empty() => inline.clear(),
                "Environment" => {
                    let vars: BTreeMap<String, String> = environment_words(&value)
                        .into_iter()
                        .filter_map(|w| {
                            w.split_once('=')
                                .map(|(k, v)| (k.to_string(), v.to_string()))
                        })
                        .collect();
                    match inline.iter_mut().find(|(f, _)| f == file) {
                        Some((_, set)) => set.extend(vars),
                        None => inline.push((file.clone(), vars)),
                    }
                }
                "EnvironmentFile" if value.is_empty() => env_files.clear(),
                "EnvironmentFile" => {
                    let path = value.strip_prefix('-').unwrap_or(&value).trim();
                    if path.starts_with('/') {
                        env_files.push((path.to_string(), file.clone()));
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = UnitEnvironment {
        sets: inline,
        env_files: Vec::new(),
    };
    // Variables from environment files override `Environment=` lines, whatever their order.
    for (path, unit) in env_files {
        if let Ok(text) = fs.read_to_string(&path) {
            out.sets.push((path.clone(), parse_env_file(&text)));
            out.env_files.push((path, unit));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_lines_are_read_as_systemd_splits_them() {
        assert_eq!(
            environment_words(
                r#""KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/b.conf --kubeconfig=/k.conf" A=1 'B=two words'"#
            ),
            [
                "KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/b.conf --kubeconfig=/k.conf",
                "A=1",
                "B=two words"
            ]
        );
        let d = service_directives(
            "[Unit]\nEnvironment=NOT=service\n[Service]\n# Environment=COMMENTED=1\nEnvironment=\"X=--a \\\n --b\"\nEnvironmentFile=-/etc/default/kubelet\n",
        );
        assert_eq!(
            d,
            [
                ("Environment".to_string(), "\"X=--a  --b\"".to_string()),
                (
                    "EnvironmentFile".to_string(),
                    "-/etc/default/kubelet".to_string()
                )
            ]
        );
    }
}
