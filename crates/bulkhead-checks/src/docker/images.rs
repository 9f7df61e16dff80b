//! Section 4: container images and build files. Judged from each image's inspect document and
//! history (secret values were masked at collection), 4.1 from each audited container's user,
//! and 4.5 from the auditing process's environment and the host's system-wide shell profiles.
//!
//! Unscored (Manual) checks follow one rule: a deviation bulkhead can see in the image but not
//! judge alone (an ADD, a lone package-index update, a secret-looking variable) is `warn`, an
//! image without it `pass`, and what only a human can decide is `manual` with evidence.

use super::{container_object, host_side_guard, no_docker, per_container};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::docker::{short_image_id, HistoryItem, ImageFacts};
use bulkhead_facts::mask::is_secret_name;

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    ("docker.image.non_root_user", non_root_user),
    ("docker.image.trusted_base", trusted_base),
    ("docker.image.minimal_packages", minimal_packages),
    ("docker.image.patched", patched),
    ("docker.image.content_trust", content_trust),
    ("docker.image.healthcheck", healthcheck),
    ("docker.image.no_lone_update", no_lone_update),
    ("docker.image.no_setuid_setgid", no_setuid_setgid),
    ("docker.image.copy_not_add", copy_not_add),
    ("docker.image.no_secrets", no_secrets),
    ("docker.image.verified_packages", verified_packages),
    (
        "docker.image.signed_artifacts_validated",
        signed_artifacts_validated,
    ),
];

/// Evaluate `judge` on every image the daemon holds and roll the results up. No images is
/// `not_applicable`; an image list that could not be read is an error.
pub(crate) fn per_image(
    ctx: &Context<'_>,
    judge: impl Fn(&ImageFacts) -> ObjectResult,
) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let docker = ctx.docker().expect("checked above");
    match docker.images.as_result() {
        Ok(images) => CheckResult::from_objects(
            images
                .iter()
                .map(|i| judge(i).id(short_image_id(&i.inspect.id)))
                .collect(),
            "the daemon holds no images",
        ),
        Err(reason) => CheckResult::error(format!("images could not be listed: {reason}")),
    }
}

/// An object result for one image, named by its first tag (else its short ID).
pub(crate) fn image_object(i: &ImageFacts, status: Status) -> ObjectResult {
    ObjectResult::new("image", i.display_name(), status)
}

// ---------------------------------------------------------------------------------------------
// 4.1 user
// ---------------------------------------------------------------------------------------------

/// Does a `Config.User` value (`user`, `user:group`, `uid`, `uid:gid`) run the container as
/// root? The user part decides: empty, `root` or uid 0 is root whatever the group says.
pub(crate) fn runs_as_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name.is_empty() || name == "root" || name.parse::<u64>().is_ok_and(|uid| uid == 0)
}

/// 4.1: each audited container runs as a non-root user (`Config.User`, which carries the image's
/// USER unless `--user` overrode it).
fn non_root_user(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let user = &c.inspect.config.user;
        let root = runs_as_root(user);
        let o = container_object(c, if root { Status::Fail } else { Status::Pass }).evidence(
            "Config.User",
            if user.is_empty() {
                "(empty: root)".to_string()
            } else {
                user.clone()
            },
            "a non-root user or a non-zero uid",
        );
        if root && !user.is_empty() {
            o.note("the user part names root (uid 0), whatever the group")
        } else {
            o
        }
    })
}

// ---------------------------------------------------------------------------------------------
// 4.2-4.4, 4.8, 4.11, 4.12: manual, with what can be read
// ---------------------------------------------------------------------------------------------

/// 4.2 (manual): where each image came from (registry digest or local build).
fn trusted_base(ctx: &Context<'_>) -> CheckResult {
    per_image(ctx, |i| {
        let digests = &i.inspect.repo_digests;
        let (actual, note) = if digests.is_empty() {
            (
                "no registry digest".to_string(),
                "built or imported locally: review the base image of its build",
            )
        } else {
            (
                digests.join(", "),
                "pulled from a registry: confirm the registry and publisher are trusted",
            )
        };
        image_object(i, Status::Manual)
            .evidence(
                "RepoDigests",
                actual,
                "images from registries and publishers you trust",
            )
            .note(note)
    })
}

fn megabytes(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// 4.3 (manual): image size and layer count, as a hint of what each image carries.
fn minimal_packages(ctx: &Context<'_>) -> CheckResult {
    per_image(ctx, |i| {
        let layers = i
            .history
            .value()
            .map_or("history unavailable".to_string(), |h| {
                let n = h.len();
                format!("{n} history {}", if n == 1 { "entry" } else { "entries" })
            });
        image_object(i, Status::Manual)
            .evidence(
                "Size",
                format!("{}, {layers}", megabytes(i.inspect.size)),
                "only the packages the application needs",
            )
            .note("list the image's packages and remove what the application does not use")
    })
}

/// 4.4 (manual): when each image was built, as a hint of how stale its packages are.
fn patched(ctx: &Context<'_>) -> CheckResult {
    per_image(ctx, |i| {
        image_object(i, Status::Manual)
            .evidence(
                "Created",
                if i.inspect.created.is_empty() {
                    "unknown".to_string()
                } else {
                    i.inspect.created.clone()
                },
                "rebuilt recently on a patched base and scanned for vulnerabilities",
            )
            .note("scan the image and rebuild it when its base or packages have fixes")
    })
}

/// 4.8 (manual): bulkhead does not read image file systems.
fn no_setuid_setgid(_ctx: &Context<'_>) -> CheckResult {
    CheckResult::manual(
        "bulkhead does not read image file systems: list the setuid and setgid files of each image and strip the bits the application does not need",
    )
}

/// 4.11 (manual): package verification happens at build time, out of bulkhead's sight.
fn verified_packages(_ctx: &Context<'_>) -> CheckResult {
    CheckResult::manual(
        "package signatures are checked (or not) when the image is built: review the build files for disabled verification (--allow-unauthenticated, --nogpgcheck, --allow-untrusted)",
    )
}

/// 4.12 (manual): signature validation is a pull-time and deploy-time policy.
fn signed_artifacts_validated(_ctx: &Context<'_>) -> CheckResult {
    CheckResult::manual(
        "signature validation is a pull- and deploy-time policy bulkhead cannot see: confirm images are verified (cosign or Notation policy) before they run",
    )
}

// ---------------------------------------------------------------------------------------------
// 4.5 content trust
// ---------------------------------------------------------------------------------------------

const CONTENT_TRUST: &str = "DOCKER_CONTENT_TRUST";

/// Does the docker CLI turn content trust on for this value? It does for any non-empty value
/// that Go's `strconv.ParseBool` does not read as false (`1`, `true`, and even `yes`).
fn content_trust_on(value: &str) -> bool {
    !value.is_empty() && bulkhead_facts::flags::parse_go_bool(value) != Some(false)
}

/// 4.5: `DOCKER_CONTENT_TRUST=1` wherever it is set: the auditing process's environment and the
/// host's system-wide profiles. Every place that sets it must turn it on as the docker CLI reads
/// it; set nowhere fails.
fn content_trust(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    let host = &ctx.snapshot.host;
    let judge = |name: &str, value: &str| {
        let ok = content_trust_on(value);
        ObjectResult::new(
            "environment",
            name,
            if ok { Status::Pass } else { Status::Fail },
        )
        .evidence(
            CONTENT_TRUST,
            value,
            "1 (the docker CLI reads any non-false value as on)",
        )
    };
    let mut objects = Vec::new();
    let from_process = host.environment.get(CONTENT_TRUST);
    if let Some(v) = from_process {
        objects.push(judge("auditing process", v));
    }
    let mut in_profiles = 0;
    for (path, vars) in &host.profile_environment {
        if let Some(v) = vars.get(CONTENT_TRUST) {
            objects.push(judge(path, v));
            in_profiles += 1;
        }
    }
    if objects.is_empty() {
        return CheckResult::fail(
            "DOCKER_CONTENT_TRUST is set neither in the auditing process's environment nor in a system-wide profile",
        )
        .with_object(
            ObjectResult::new("environment", "auditing process", Status::Fail)
                .evidence(CONTENT_TRUST, "unset", "1"),
        );
    }
    let mut r = CheckResult::from_objects(objects, "");
    if r.status == Status::Pass {
        r.message = Some(if in_profiles == 0 {
            "DOCKER_CONTENT_TRUST=1 only in the auditing process's environment: other shells pull without it unless a system-wide profile sets it".to_string()
        } else {
            format!("DOCKER_CONTENT_TRUST=1 in {in_profiles} system-wide profile(s)")
        });
    }
    r
}

// ---------------------------------------------------------------------------------------------
// 4.6 HEALTHCHECK
// ---------------------------------------------------------------------------------------------

/// 4.6: each image defines a HEALTHCHECK (`["NONE"]` disables one inherited from the base).
fn healthcheck(ctx: &Context<'_>) -> CheckResult {
    per_image(ctx, |i| {
        let (ok, actual) = match &i.inspect.config.healthcheck {
            None => (false, "no HEALTHCHECK".to_string()),
            Some(h) if h.test.first().is_some_and(|t| t == "NONE") => {
                (false, "HEALTHCHECK NONE (disabled)".to_string())
            }
            Some(h) if h.test.is_empty() => (false, "HEALTHCHECK without a test".to_string()),
            Some(h) => (true, h.test.join(" ")),
        };
        image_object(i, if ok { Status::Pass } else { Status::Fail }).evidence(
            "Config.Healthcheck.Test",
            actual,
            "a HEALTHCHECK instruction",
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Image history (4.7, 4.9, 4.10)
// ---------------------------------------------------------------------------------------------

/// Dockerfile instructions, as BuildKit writes them at the start of a history entry.
const INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// The instruction a history entry records and its arguments. Both builders' forms are read:
/// `/bin/sh -c #(nop)  CMD ["sh"]` and `/bin/sh -c apt-get update` (classic builder, build
/// arguments as a `|2 A=1 B=2` prefix) and `RUN /bin/sh -c apt-get update # buildkit`,
/// `ADD file:... in /` (BuildKit). Anything else is a RUN in exec form. Empty for entries that
/// record no instruction (an imported root file system).
fn instruction(created_by: &str) -> (&str, &str) {
    let s = created_by.trim();
    let s = s.strip_suffix("# buildkit").map(str::trim_end).unwrap_or(s);
    if s.is_empty() {
        return ("", "");
    }
    if let Some(i) = s.find("#(nop)") {
        let rest = s[i + "#(nop)".len()..].trim_start();
        let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        return (word, args.trim());
    }
    let (first, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
    let (keyword, args) = if INSTRUCTIONS.contains(&first) {
        (first, rest.trim())
    } else {
        ("RUN", s)
    };
    if keyword != "RUN" {
        return (keyword, args);
    }
    ("RUN", run_script(args))
}

/// The shell script of a RUN entry without its build-argument prefix (`|2 A=1 B=2`) and shell
/// (`/bin/sh -c`).
fn run_script(args: &str) -> &str {
    let mut s = args.trim();
    if let Some(rest) = s.strip_prefix('|') {
        let (count, mut tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        for _ in 0..count.parse::<usize>().unwrap_or(0) {
            tail = tail.trim_start();
            tail = tail.split_once(char::is_whitespace).map_or("", |(_, t)| t);
        }
        s = tail.trim_start();
    }
    for shell in ["/bin/sh -c ", "/bin/bash -c ", "sh -c ", "bash -c "] {
        if let Some(rest) = s.strip_prefix(shell) {
            return rest.trim();
        }
    }
    s
}

/// What a package-manager command does to the package index or the packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PackageAction {
    /// Refreshes the index (or, for yum/dnf `update`, refreshes and upgrades on its own).
    Update,
    /// Installs or upgrades packages, using the index in the same step.
    Install,
}

/// Package managers and their sub-commands, by kind of action.
const PACKAGE_MANAGERS: &[(&[&str], &[&str], &[&str])] = &[
    (
        &["apt-get", "apt"],
        &["update"],
        &["install", "upgrade", "dist-upgrade", "full-upgrade"],
    ),
    (&["apk"], &["update"], &["add", "upgrade"]),
    (
        &["yum", "dnf", "microdnf"],
        &["update", "makecache"],
        &["install", "upgrade", "groupinstall", "reinstall"],
    ),
    (
        &["zypper"],
        &["refresh", "ref"],
        &[
            "install",
            "in",
            "update",
            "up",
            "dist-upgrade",
            "dup",
            "patch",
        ],
    ),
];

/// Words that may stand before the program of a command without being it.
const COMMAND_PREFIXES: &[&str] = &["sudo", "env", "exec", "nice", "nohup", "time", "command"];

/// The package-manager actions in a shell script, command by command (split at `&&`, `||`, `;`,
/// `|`, `&` and newlines). A command's program is its first word after `sudo`-like prefixes,
/// their options and `NAME=value` assignments (`echo apt-get update` runs echo); the first
/// sub-command word after a package manager decides what it does.
fn package_actions(script: &str) -> Vec<(String, PackageAction)> {
    let mut out = Vec::new();
    for command in script.split(['&', '|', ';', '\n']) {
        let words: Vec<&str> = command.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| {
            !(COMMAND_PREFIXES.contains(w) || w.starts_with('-') || is_assignment(w))
        }) else {
            continue;
        };
        let program = words[at].rsplit('/').next().unwrap_or(words[at]);
        let Some((_, updates, installs)) = PACKAGE_MANAGERS
            .iter()
            .find(|(names, _, _)| names.contains(&program))
        else {
            continue;
        };
        let found = words[at + 1..].iter().find_map(|a| {
            if updates.contains(a) {
                Some((*a, PackageAction::Update))
            } else if installs.contains(a) {
                Some((*a, PackageAction::Install))
            } else {
                None
            }
        });
        if let Some((word, action)) = found {
            out.push((format!("{program} {word}"), action));
        }
    }
    out
}

/// `NAME=value` (a shell variable assignment before a command).
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Is this RUN script a package-index update with no install or upgrade in the same layer?
fn is_lone_update(script: &str) -> Option<String> {
    let actions = package_actions(script);
    let update = actions.iter().find(|(_, a)| *a == PackageAction::Update)?;
    let installs = actions.iter().any(|(_, a)| *a == PackageAction::Install);
    (!installs).then(|| update.0.clone())
}

/// Shorten a history line for evidence.
fn clip(s: &str) -> String {
    const MAX: usize = 120;
    let s = s.trim();
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(MAX).collect::<String>())
    }
}

/// The image's history, or the error object to report when it could not be read.
fn history(i: &ImageFacts) -> Result<&[HistoryItem], Box<ObjectResult>> {
    i.history
        .as_result()
        .map(|h| h.as_slice())
        .map_err(|reason| {
            Box::new(
                image_object(i, Status::Error).note(format!("history could not be read: {reason}")),
            )
        })
}

/// 4.7: no layer refreshes the package index without installing in the same RUN (a cached lone
/// update layer makes later installs use a stale index).
fn no_lone_update(ctx: &Context<'_>) -> CheckResult {
    per_image(ctx, |i| {
        let h = match history(i) {
            Ok(h) => h,
            Err(o) => return *o,
        };
        let lone: Vec<String> = h
            .iter()
            .filter_map(|item| match instruction(&item.created_by) {
                ("RUN", script) => is_lone_update(script).map(|u| format!("{u}: {}", clip(script))),
                _ => None,
            })
            .collect();
        let expected = "update and install in one RUN (apt-get update && apt-get install ...)";
        if lone.is_empty() {
            image_object(i, Status::Pass).evidence("history", "no lone update", expected)
        } else {
            image_object(i, Status::Warn)
                .evidence("history", lone.join("; "), expected)
                .note("a lone update layer is cached: later installs may use a stale package index")
        }
    })
}

/// Is this ADD the base image's own root file system (`ADD file:<hash> in /`)?
fn is_root_filesystem_add(args: &str) -> bool {
    let args = args.trim();
    (args.starts_with("file:") || args.starts_with("multi:")) && args.ends_with(" in /")
}

/// 4.9: no ADD instruction other than the base image's root file system (the oldest layer's
/// `ADD file:... in /`); COPY does the same without fetching URLs or unpacking archives.
fn copy_not_add(ctx: &Context<'_>) -> CheckResult {
    per_image(ctx, |i| {
        let h = match history(i) {
            Ok(h) => h,
            Err(o) => return *o,
        };
        // History is newest first: the base's root layer is the oldest ADD.
        let oldest_add = h
            .iter()
            .rposition(|item| instruction(&item.created_by).0 == "ADD");
        let adds: Vec<&str> = h
            .iter()
            .enumerate()
            .filter_map(|(n, item)| match instruction(&item.created_by) {
                ("ADD", args) if !(Some(n) == oldest_add && is_root_filesystem_add(args)) => {
                    Some(args)
                }
                _ => None,
            })
            .collect();
        let expected = "COPY (ADD only for the base root file system)";
        if adds.is_empty() {
            return image_object(i, Status::Pass).evidence("history", "no ADD", expected);
        }
        let fetches = adds
            .iter()
            .any(|a| a.contains("http://") || a.contains("https://") || a.contains("git@"));
        image_object(i, Status::Warn)
            .evidence(
                "history",
                adds.iter()
                    .map(|a| format!("ADD {}", clip(a)))
                    .collect::<Vec<_>>()
                    .join("; "),
                expected,
            )
            .note(if fetches {
                "ADD fetches from the network here: the content is not pinned by the build context"
            } else {
                "ADD unpacks archives and can fetch URLs; use COPY unless that is intended"
            })
    })
}

/// Names of secret-looking variables assigned a value in `text` (`ENV DB_PASSWORD=***`). The
/// values were masked at collection, so only names are ever shown.
fn secret_names(text: &str, out: &mut Vec<String>) {
    for word in text.split_whitespace() {
        let word = word.trim_matches(|c| c == '"' || c == '\'');
        if let Some((name, value)) = word.split_once('=') {
            let name = name.trim_start_matches('-');
            if !value.is_empty() && is_secret_name(name) && !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
    }
}

/// 4.10 (manual): secret-looking variables baked into the image's environment or build history.
/// A clean result is still `manual`: files copied into the image can hold secrets too.
fn no_secrets(ctx: &Context<'_>) -> CheckResult {
    per_image(ctx, |i| {
        let mut env_names = Vec::new();
        for e in &i.inspect.config.env {
            secret_names(e, &mut env_names);
        }
        let mut history_names = Vec::new();
        if let Some(h) = i.history.value() {
            for item in h {
                secret_names(&item.created_by, &mut history_names);
            }
        }
        let expected = "no secret in the image's environment, build arguments or layers";
        if env_names.is_empty() && history_names.is_empty() {
            let actual = if i.history.value().is_some() {
                "no secret-looking variable in Config.Env or history"
            } else {
                "no secret-looking variable in Config.Env (history unavailable)"
            };
            return image_object(i, Status::Manual)
                .evidence("Config.Env, history", actual, expected)
                .note("files copied into the image can still hold secrets: scan its layers");
        }
        let mut parts = Vec::new();
        if !env_names.is_empty() {
            parts.push(format!("Config.Env: {}", env_names.join(", ")));
        }
        if !history_names.is_empty() {
            parts.push(format!("history: {}", history_names.join(", ")));
        }
        image_object(i, Status::Warn)
            .evidence("Config.Env, history", parts.join("; "), expected)
            .note("values are masked here; anyone who can pull the image can read them: pass secrets at run time (secrets, mounted files) or with BuildKit --secret")
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;
    use crate::model::Status;
    use bulkhead_facts::docker::HealthConfig;
    use bulkhead_facts::Fact;
    use std::collections::BTreeMap;

    fn verdicts(r: &CheckResult) -> Vec<(&str, Status)> {
        r.objects
            .iter()
            .map(|o| (o.name.as_str(), o.status))
            .collect()
    }

    fn history_of(lines: &[&str]) -> Fact<Vec<HistoryItem>> {
        Fact::Value(
            lines
                .iter()
                .map(|l| HistoryItem {
                    created_by: bulkhead_facts::mask::mask_text(l),
                    ..Default::default()
                })
                .collect(),
        )
    }

    // --- 4.1: PITFALL 16 --------------------------------------------------------------------

    #[test]
    fn pitfall_16_root_in_every_spelling_fails_4_1() {
        let users = [
            ("empty", "", Status::Fail),
            ("root", "root", Status::Fail),
            ("zero", "0", Status::Fail),
            ("zero-zero", "0:0", Status::Fail),
            ("root-root", "root:root", Status::Fail),
            ("zero-gid", "0:1000", Status::Fail),
            ("root-group", "root:staff", Status::Fail),
            ("uid-1000", "1000", Status::Pass),
            ("uid-gid", "1000:1000", Status::Pass),
            ("named", "app", Status::Pass),
            ("named-root-group", "app:root", Status::Pass),
        ];
        let mut f = Fixture::new();
        for (name, user, _) in users {
            f = f.container(name, |c| c.config.user = user.into());
        }
        let r = f.check("docker.image.non_root_user");
        let expected: Vec<(&str, Status)> = users.iter().map(|(n, _, s)| (*n, *s)).collect();
        assert_eq!(verdicts(&r), expected);
        assert_eq!(r.status, Status::Fail);
    }

    #[test]
    fn non_root_user_without_containers_is_not_applicable() {
        let r = Fixture::new().check("docker.image.non_root_user");
        assert_eq!(r.status, Status::NotApplicable);
        assert_eq!(r.message.as_deref(), Some("no running containers"));
    }

    // --- 4.5: PITFALL 16 --------------------------------------------------------------------

    fn profile(path: &str, value: &str) -> impl FnOnce(&mut bulkhead_facts::host::HostFacts) {
        let path = path.to_string();
        let value = value.to_string();
        move |h| {
            let mut vars = BTreeMap::new();
            vars.insert(CONTENT_TRUST.to_string(), value);
            h.profile_environment.insert(path, vars);
        }
    }

    #[test]
    fn pitfall_16_content_trust_read_from_system_profiles() {
        // docker-bench reads only the auditing shell's environment: a host whose
        // /etc/profile.d sets DOCKER_CONTENT_TRUST=1 for every login is reported as failing.
        let f = Fixture::new().edit_host(profile("/etc/profile.d/docker-trust.sh", "1"));
        let r = f.check("docker.image.content_trust");
        assert_eq!(r.status, Status::Pass, "{r:?}");
        assert_eq!(r.objects[0].name, "/etc/profile.d/docker-trust.sh");
        assert_eq!(
            r.message.as_deref(),
            Some("DOCKER_CONTENT_TRUST=1 in 1 system-wide profile(s)")
        );
    }

    #[test]
    fn content_trust_sources_and_conflicts() {
        let unset = Fixture::new().check("docker.image.content_trust");
        assert_eq!(unset.status, Status::Fail);
        assert_eq!(unset.objects[0].evidence.as_ref().unwrap().actual, "unset");

        let env_only = Fixture::new()
            .edit_host(|h| {
                h.environment.insert(CONTENT_TRUST.into(), "1".into());
            })
            .check("docker.image.content_trust");
        assert_eq!(env_only.status, Status::Pass);
        assert_eq!(env_only.objects[0].name, "auditing process");
        assert!(env_only
            .message
            .unwrap()
            .contains("only in the auditing process"));

        let conflict = Fixture::new()
            .edit_host(profile("/etc/environment", "0"))
            .edit_host(|h| {
                h.environment.insert(CONTENT_TRUST.into(), "1".into());
            })
            .check("docker.image.content_trust");
        assert_eq!(conflict.status, Status::Fail);
        assert_eq!(
            verdicts(&conflict),
            vec![
                ("auditing process", Status::Pass),
                ("/etc/environment", Status::Fail)
            ]
        );
    }

    #[test]
    fn content_trust_values_read_as_the_docker_cli_reads_them() {
        for (value, on) in [
            ("1", true),
            ("true", true),
            ("True", true),
            ("yes", true),
            ("0", false),
            ("false", false),
            ("F", false),
            ("", false),
        ] {
            let r = Fixture::new()
                .edit_host(profile("/etc/environment", value))
                .check("docker.image.content_trust");
            let expected = if on { Status::Pass } else { Status::Fail };
            assert_eq!(r.status, expected, "DOCKER_CONTENT_TRUST={value:?}");
        }
    }

    #[test]
    fn content_trust_on_a_remote_daemon_is_not_applicable() {
        let r = Fixture::new()
            .edit_docker(|d| d.endpoint.local = false)
            .check("docker.image.content_trust");
        assert_eq!(r.status, Status::NotApplicable);
    }

    // --- 4.6 --------------------------------------------------------------------------------

    #[test]
    fn image_healthcheck() {
        let probe = |test: &[&str]| {
            Some(HealthConfig {
                test: test.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            })
        };
        let f = Fixture::new()
            .image("with:1", |i| {
                i.inspect.config.healthcheck = probe(&["CMD", "true"])
            })
            .image("none:1", |_| {})
            .image("disabled:1", |i| {
                i.inspect.config.healthcheck = probe(&["NONE"])
            })
            .image("", |_| {});
        let r = f.check("docker.image.healthcheck");
        assert_eq!(
            verdicts(&r),
            vec![
                ("with:1", Status::Pass),
                ("none:1", Status::Fail),
                ("disabled:1", Status::Fail),
                ("000000000000", Status::Fail)
            ]
        );
        assert_eq!(
            r.objects[2].evidence.as_ref().unwrap().actual,
            "HEALTHCHECK NONE (disabled)"
        );
    }

    #[test]
    fn no_images_is_not_applicable_and_unlisted_images_an_error() {
        let r = Fixture::new().check("docker.image.healthcheck");
        assert_eq!(r.status, Status::NotApplicable);
        assert_eq!(r.message.as_deref(), Some("the daemon holds no images"));
        let r = Fixture::new()
            .edit_docker(|d| d.images = Fact::unavailable("API error 500"))
            .check("docker.image.healthcheck");
        assert_eq!(r.status, Status::Error);
        assert!(r.message.unwrap().contains("API error 500"));
    }

    // --- history parsing --------------------------------------------------------------------

    #[test]
    fn instructions_from_both_builders() {
        assert_eq!(
            instruction("/bin/sh -c #(nop)  CMD [\"bash\"]"),
            ("CMD", "[\"bash\"]")
        );
        assert_eq!(
            instruction("/bin/sh -c #(nop) ADD file:4b03b5f551e3fbdf47ec609712007327828f7530cc3455c43bbcdcaf449a75a9 in / "),
            ("ADD", "file:4b03b5f551e3fbdf47ec609712007327828f7530cc3455c43bbcdcaf449a75a9 in /")
        );
        assert_eq!(
            instruction("/bin/sh -c apt-get update"),
            ("RUN", "apt-get update")
        );
        assert_eq!(
            instruction("|2 A=1 B=two /bin/sh -c apk update"),
            ("RUN", "apk update")
        );
        assert_eq!(
            instruction("RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit"),
            ("RUN", "apt-get update && apt-get install -y curl")
        );
        assert_eq!(
            instruction("RUN |1 V=2 /bin/sh -c yum update -y # buildkit"),
            ("RUN", "yum update -y")
        );
        assert_eq!(
            instruction("ADD https://example.com/app.tgz /opt/ # buildkit"),
            ("ADD", "https://example.com/app.tgz /opt/")
        );
        assert_eq!(instruction("COPY . /src # buildkit"), ("COPY", ". /src"));
        assert_eq!(instruction(""), ("", ""));
        assert_eq!(instruction("apt-get update"), ("RUN", "apt-get update"));
    }

    #[test]
    fn lone_updates() {
        for script in [
            "apt-get update",
            "apt-get -qq update",
            "apk update",
            "yum update -y",
            "dnf makecache",
            "sudo apt update && echo done",
            "zypper refresh",
        ] {
            assert!(is_lone_update(script).is_some(), "{script}");
        }
        for script in [
            "apt-get update && apt-get install -y curl",
            "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -y upgrade",
            "apk update && apk add curl",
            "apk add --update curl",
            "yum update -y && yum install -y httpd",
            "apt-get install -y curl",
            "echo apt-get update",
            "",
        ] {
            assert!(is_lone_update(script).is_none(), "{script}");
        }
    }

    #[test]
    fn lone_update_layers_warn() {
        let f = Fixture::new()
            .image("lone:1", |i| {
                i.history = history_of(&[
                    "/bin/sh -c apt-get install -y curl",
                    "/bin/sh -c apt-get update",
                    "/bin/sh -c #(nop) ADD file:abc in / ",
                ])
            })
            .image("together:1", |i| {
                i.history = history_of(&[
                    "RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit",
                ])
            })
            .image("imported:1", |i| i.history = history_of(&[""]))
            .image("unknown:1", |i| {
                i.history = Fact::unavailable("image removed during collection")
            });
        let r = f.check("docker.image.no_lone_update");
        assert_eq!(
            verdicts(&r),
            vec![
                ("lone:1", Status::Warn),
                ("together:1", Status::Pass),
                ("imported:1", Status::Pass),
                ("unknown:1", Status::Error)
            ]
        );
        assert_eq!(
            r.objects[0].evidence.as_ref().unwrap().actual,
            "apt-get update: apt-get update"
        );
    }

    #[test]
    fn add_except_the_base_root_filesystem_warns() {
        let f = Fixture::new()
            .image("debian-based:1", |i| {
                i.history = history_of(&[
                    "/bin/sh -c #(nop)  CMD [\"bash\"]",
                    "/bin/sh -c #(nop) ADD file:4b03b5f551e3 in / ",
                ])
            })
            .image("adds:1", |i| {
                i.history = history_of(&[
                    "ADD https://example.com/tool.tgz /opt/ # buildkit",
                    "COPY app /app # buildkit",
                    "/bin/sh -c #(nop) ADD file:4b03b5f551e3 in / ",
                ])
            })
            .image("late-root-add:1", |i| {
                i.history = history_of(&[
                    "ADD file:99aa in / # buildkit",
                    "/bin/sh -c #(nop) ADD file:4b03b5f551e3 in / ",
                ])
            });
        let r = f.check("docker.image.copy_not_add");
        assert_eq!(
            verdicts(&r),
            vec![
                ("debian-based:1", Status::Pass),
                ("adds:1", Status::Warn),
                ("late-root-add:1", Status::Warn)
            ]
        );
        assert_eq!(
            r.objects[1].evidence.as_ref().unwrap().actual,
            "ADD https://example.com/tool.tgz /opt/"
        );
        assert!(r.objects[1].note.as_deref().unwrap().contains("network"));
    }

    #[test]
    fn secrets_named_but_never_shown() {
        let f = Fixture::new()
            .image("leaky:1", |i| {
                i.inspect.config.env = vec![
                    "PATH=/usr/bin".into(),
                    bulkhead_facts::mask::mask_assignment("DB_PASSWORD=hunter2"),
                    "TOKEN_FILE=/run/secrets/token".into(),
                ];
                i.history = history_of(&["|1 GITHUB_TOKEN=ghp_abc /bin/sh -c make"]);
            })
            .image("clean:1", |i| {
                i.inspect.config.env = vec!["PATH=/usr/bin".into()]
            });
        let r = f.check("docker.image.no_secrets");
        assert_eq!(
            verdicts(&r),
            vec![("leaky:1", Status::Warn), ("clean:1", Status::Manual)]
        );
        let actual = &r.objects[0].evidence.as_ref().unwrap().actual;
        assert_eq!(actual, "Config.Env: DB_PASSWORD; history: GITHUB_TOKEN");
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("hunter2") && !json.contains("ghp_abc"));
    }

    /// History as dockerd 20.10's classic builder recorded it for a test Dockerfile built on a
    /// `docker import`ed busybox (newest first; the imported layer has no CreatedBy).
    const CLASSIC_BUILDER_HISTORY: &[&str] = &[
        "/bin/sh -c #(nop)  USER 1000",
        "/bin/sh -c #(nop)  HEALTHCHECK &{[\"CMD\" \"true\"] \"5s\" \"0s\" \"0s\" '\\x00'}",
        "|1 GITHUB_TOKEN=abc /bin/sh -c echo $GITHUB_TOKEN > /dev/null",
        "/bin/sh -c #(nop) COPY file:63e4fd53e0703f1e446126de2246bde90b0a09aeab29d54844d39e4eb74bc3c3 in /f.txt ",
        "/bin/sh -c #(nop) ADD file:37f6fba8a390c47f1b97edc0dc57d68d614b9cf77729ce4e434473923687a917 in /opt/ ",
        "|1 GITHUB_TOKEN=abc /bin/sh -c apt-get update || true",
        "/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter2 PATH=/bin",
        "/bin/sh -c #(nop)  ARG GITHUB_TOKEN=abc",
        "",
    ];

    #[test]
    fn history_recorded_by_a_real_classic_builder() {
        let f = Fixture::new().image("built:1", |i| {
            i.history = history_of(CLASSIC_BUILDER_HISTORY);
            i.inspect.config.env = vec![
                "PATH=/bin".into(),
                bulkhead_facts::mask::mask_assignment("DB_PASSWORD=hunter2"),
            ];
        });
        let lone = f.check("docker.image.no_lone_update");
        assert_eq!(lone.status, Status::Warn);
        assert_eq!(
            lone.objects[0].evidence.as_ref().unwrap().actual,
            "apt-get update: apt-get update || true"
        );
        let add = f.check("docker.image.copy_not_add");
        assert_eq!(add.status, Status::Warn, "a local archive ADDed to /opt/");
        assert!(add.objects[0]
            .evidence
            .as_ref()
            .unwrap()
            .actual
            .ends_with("in /opt/"));
        let secrets = f.check("docker.image.no_secrets");
        assert_eq!(secrets.status, Status::Warn);
        assert_eq!(
            secrets.objects[0].evidence.as_ref().unwrap().actual,
            "Config.Env: DB_PASSWORD; history: GITHUB_TOKEN, DB_PASSWORD"
        );
    }

    #[test]
    fn manual_image_checks_show_what_is_readable() {
        let f = Fixture::new()
            .image("pulled:1", |i| {
                i.inspect.repo_digests = vec!["pulled@sha256:0123".into()];
                i.inspect.size = 12_500_000;
                i.inspect.created = "2024-05-01T10:00:00Z".into();
            })
            .image("local:1", |i| {
                i.history = history_of(&["/bin/sh -c #(nop) ADD file:0a1b in / "])
            });
        let r = f.check("docker.image.trusted_base");
        assert_eq!(r.status, Status::Manual);
        assert_eq!(
            r.objects[0].evidence.as_ref().unwrap().actual,
            "pulled@sha256:0123"
        );
        assert_eq!(
            r.objects[1].evidence.as_ref().unwrap().actual,
            "no registry digest"
        );
        let r = f.check("docker.image.minimal_packages");
        assert_eq!(
            r.objects[0].evidence.as_ref().unwrap().actual,
            "12.5 MB, 0 history entries"
        );
        assert!(r.objects[1]
            .evidence
            .as_ref()
            .unwrap()
            .actual
            .ends_with(", 1 history entry"));
        let r = f.check("docker.image.patched");
        assert_eq!(
            r.objects[0].evidence.as_ref().unwrap().actual,
            "2024-05-01T10:00:00Z"
        );
        for id in [
            "docker.image.no_setuid_setgid",
            "docker.image.verified_packages",
            "docker.image.signed_artifacts_validated",
        ] {
            assert_eq!(f.check(id).status, Status::Manual, "{id}");
        }
    }
}
