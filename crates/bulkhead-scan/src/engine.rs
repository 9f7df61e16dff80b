//! The scan engine: inputs -> parse -> rules -> findings -> suppressions -> report.
//!
//! Owns: input discovery (recursive, honouring .gitignore, recognising each artifact kind by
//! name and, for YAML/JSON, by content), per-file parsing with limits (hostile input becomes a
//! `FileError` naming file and line), running the registered rules, building findings (location,
//! object, references, masked snippet, fingerprint), applying suppressions, and cross-file rules
//! (NetworkPolicy coverage). Files are processed on all cores; the output order is stable.

use crate::catalog::{self, Rule};
use crate::config::{self, Config};
use crate::fixes::BOM;
use crate::model::*;
use crate::rules::{self, Hit, Out};
use crate::suppress::{self, Baseline, CommentSyntax, Inline, ANNOTATION_PREFIX};
use bulkhead_sources::kubernetes;
use bulkhead_sources::yaml::{self, Node};
use bulkhead_sources::{
    check_text, compose, daemon_json, dockerfile, Limits, LineIndex, SourceError,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub config: Config,
    /// Dockerfile stage to treat as the final one (`--target`). A Dockerfile without that stage
    /// is judged by its last stage, with a note on its [`ScannedFile`], unless `strict_target`.
    pub target: Option<String>,
    /// A Dockerfile without the `target` stage is an error, not a note. [`scan_paths`] sets this
    /// itself when its one path is a file; set it when the one input is a Dockerfile named
    /// explicitly (standard input).
    pub strict_target: bool,
    /// Treat every input as this kind (required for stdin).
    pub kind: Option<ArtifactKind>,
    pub baseline: Option<Baseline>,
    /// Today's date as a day number, for suppression expiry.
    pub today: i64,
    pub limits: Limits,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Where the scan runs and the top of its source tree: fingerprints hash each file's path
    /// from that top ([`SourceRoot::relative`]). None hashes paths as given (the library's
    /// default, so its output does not depend on the process's working directory); the CLI sets
    /// it.
    pub source_root: Option<crate::SourceRoot>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            config: Config::default(),
            target: None,
            strict_target: false,
            kind: None,
            baseline: None,
            today: config::today(),
            limits: Limits::default(),
            threads: 0,
            source_root: None,
        }
    }
}

/// One input: a display path, its bytes, and the kind if known.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: String,
    pub bytes: Vec<u8>,
    pub kind: Option<ArtifactKind>,
}

/// What a file name says about its kind.
pub fn kind_by_name(path: &Path) -> Option<ArtifactKind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    // The backups `bulkhead harden --apply` leaves beside each file it changes
    // (`Dockerfile.bulkhead-STAMP.bak`) are not artifacts anyone builds or deploys.
    if lower.contains(".bulkhead-") && lower.ends_with(".bak") {
        return None;
    }
    if lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.starts_with("containerfile.")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
    {
        return Some(ArtifactKind::Dockerfile);
    }
    let yamlish = lower.ends_with(".yml") || lower.ends_with(".yaml");
    if yamlish
        && (lower.starts_with("docker-compose")
            || lower.starts_with("compose.")
            || lower.starts_with("compose-"))
    {
        return Some(ArtifactKind::Compose);
    }
    if lower == "daemon.json" {
        return Some(ArtifactKind::DaemonJson);
    }
    None
}

/// YAML or JSON files that may be Kubernetes manifests (decided by content).
fn maybe_manifest(path: &Path) -> bool {
    let lower = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    lower.ends_with(".yml") || lower.ends_with(".yaml") || lower.ends_with(".json")
}

/// Discover inputs under `paths` (files are taken as given; directories are walked honouring
/// .gitignore, .ignore and the config's `exclude`). Unreadable paths become errors.
pub fn discover(
    paths: &[PathBuf],
    opts: &ScanOptions,
) -> (Vec<(PathBuf, Option<ArtifactKind>)>, Vec<FileError>) {
    let exclude = opts.config.exclude_set();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                errors.push(FileError {
                    path: root.display().to_string(),
                    line: 1,
                    column: 1,
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        // Anything named that is not a directory is read as the user asked: a regular file, or
        // a pipe such as `<(helm template ...)`. (Walking it would find nothing and report
        // nothing: a FIFO or a device named on the command line vanished from the report.)
        if !meta.is_dir() {
            files.push((root.clone(), opts.kind.or_else(|| kind_by_name(root))));
            continue;
        }
        // Hidden files and directories are walked: `.devcontainer/Dockerfile`,
        // `.docker/compose.yaml` and `.deploy/*.yaml` are artifacts like any other. Only the
        // metadata of version control is not (it holds old copies of files, not what ships).
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .git_ignore(true)
            .git_exclude(true)
            .parents(true)
            .require_git(false)
            .filter_entry(|e| {
                e.depth() == 0
                    || !e.file_type().is_some_and(|t| t.is_dir())
                    || !e
                        .file_name()
                        .to_str()
                        .is_some_and(|n| VCS_DIRS.contains(&n))
            })
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    errors.push(walk_error(root, &e));
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let p = entry.into_path();
            let rel = p.strip_prefix(root).unwrap_or(&p);
            if exclude.is_match(rel) || exclude.is_match(&p) {
                continue;
            }
            // In directories names decide; a forced kind only settles YAML/JSON files that no
            // name identifies (so `--kind compose dir/` does not read a README as compose).
            match kind_by_name(&p) {
                Some(k) => files.push((p, Some(k))),
                None if maybe_manifest(&p) => {
                    let forced = opts
                        .kind
                        .filter(|k| matches!(k, ArtifactKind::Kubernetes | ArtifactKind::Compose));
                    files.push((p, forced))
                }
                None => {}
            }
        }
    }
    files.sort();
    files.dedup();
    one_spelling_per_file(&mut files);
    (files, errors)
}

/// Directories of version-control systems, never walked (`.git` holds packed old versions
/// of the files, and a `.git` file of a worktree is not an artifact either).
const VCS_DIRS: [&str; 5] = [".git", ".hg", ".svn", ".bzr", ".jj"];

/// An error met while walking `root`, named by the path it is about (the directory that could
/// not be read, not the root the walk started from), with the reason the system gave. It is
/// about the whole path, so it has no line.
fn walk_error(root: &Path, e: &ignore::Error) -> FileError {
    fn place<'a>(e: &'a ignore::Error) -> (Option<&'a Path>, String) {
        match e {
            ignore::Error::WithPath { path, err } => {
                let (inner, message) = place(err);
                // The directory walker's own errors repeat the path ("IO error for operation
                // on PATH: reason"): the path is said once, as the error's path.
                let repeated = format!("IO error for operation on {}: ", path.display());
                let message = message.replacen(&repeated, "", 1);
                (Some(inner.unwrap_or(path)), message)
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                place(err)
            }
            ignore::Error::Loop { child, ancestor } => (
                Some(child),
                format!("symbolic link loop back to {}", ancestor.display()),
            ),
            ignore::Error::Partial(errs) if !errs.is_empty() => place(&errs[0]),
            ignore::Error::Io(io) => (None, format!("cannot read: {io}")),
            other => (None, format!("cannot read: {other}")),
        }
    }
    let (path, message) = place(e);
    FileError {
        path: path.unwrap_or(root).display().to_string(),
        line: 0,
        column: 0,
        message,
    }
}

/// A file reached by two spellings (`sub`, `./sub`, `$PWD/sub` and `sub/../sub` all named, a
/// directory and a file inside it, or a symlink to a file also named) is scanned once, or its
/// findings would be reported twice: entries whose canonical paths are equal keep the spelling the
/// user would read first (relative before absolute, then the shortest). Hard links are distinct
/// files that happen to share an inode (`Dockerfile` and `Dockerfile.dev` linked to save space are
/// still two artifacts the user named), so identity is the resolved path, not the device and
/// inode. Files whose path cannot be resolved are all kept.
fn one_spelling_per_file(files: &mut Vec<(PathBuf, Option<ArtifactKind>)>) {
    use std::collections::HashMap;
    let preference = |p: &Path| (p.is_absolute(), p.as_os_str().len(), p.to_path_buf());
    let mut best: HashMap<PathBuf, PathBuf> = HashMap::new();
    for (p, _) in files.iter() {
        let Ok(real) = std::fs::canonicalize(p) else {
            continue;
        };
        best.entry(real)
            .and_modify(|kept| {
                if preference(p) < preference(kept) {
                    *kept = p.clone();
                }
            })
            .or_insert_with(|| p.clone());
    }
    files.retain(|(p, _)| match std::fs::canonicalize(p) {
        Ok(real) => best.get(&real) == Some(p),
        Err(_) => true,
    });
}

/// Scan files and directories. A file named in `paths` that turns out not to be an artifact is
/// listed as skipped with the reason (one found while walking a directory is left out quietly,
/// as most YAML and JSON in a repository is not a manifest), and so is a directory in `paths`
/// that holds no artifact at all.
pub fn scan_paths(paths: &[PathBuf], opts: &ScanOptions) -> ScanReport {
    let (files, errors) = discover(paths, opts);
    let explicit: BTreeSet<&PathBuf> = paths
        .iter()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| !m.is_dir()))
        .collect();
    // `--target` names a stage of THE Dockerfile only when one file is named.
    let strict_target = opts.strict_target || (paths.len() == 1 && explicit.len() == 1);
    let display = |path: &Path| {
        let display = path.display().to_string();
        display.strip_prefix("./").unwrap_or(&display).to_string()
    };
    let read =
        |path: &Path| bulkhead_sources::file::read_limited(path, opts.limits.max_bytes as u64);
    // Compose files are read before the others, as the project plan needs them all; once, as a
    // pipe cannot be read twice and a file read twice could change between the reads.
    let compose_read: Vec<Option<std::io::Result<Vec<u8>>>> = files
        .iter()
        .map(|(p, k)| (*k == Some(ArtifactKind::Compose)).then(|| read(p)))
        .collect();
    let compose_files: Vec<(String, Vec<u8>)> = files
        .iter()
        .zip(&compose_read)
        .filter_map(|((p, _), bytes)| Some((display(p), bytes.as_ref()?.as_ref().ok()?.clone())))
        .collect();
    let scanned: Vec<String> = files.iter().map(|(p, _)| display(p)).collect();
    let plan = crate::compose_project::plan(
        &compose_files,
        &scanned,
        &|p| read_referenced(p, &opts.limits),
        opts,
    );
    let inputs: Vec<_> = files.iter().zip(compose_read).collect();
    let mut results = parallel_map(&inputs, opts.threads, |((path, kind), compose_read)| {
        let display = display(path);
        let injected = plan.files.get(&display);
        let bytes = match compose_read {
            Some(Ok(bytes)) => Ok(bytes.clone()),
            Some(Err(e)) => Err(std::io::Error::new(e.kind(), e.to_string())),
            None => read(path),
        };
        match bytes {
            Ok(bytes) => scan_one(
                &Input {
                    path: display,
                    bytes,
                    kind: injected.map_or(*kind, |_| Some(ArtifactKind::Compose)),
                },
                opts,
                strict_target,
                injected,
            ),
            Err(e) => FileResult::error(FileError {
                path: display,
                line: 1,
                column: 1,
                message: format!("cannot read: {e}"),
            }),
        }
    });
    for ((path, _), r) in files.iter().zip(results.iter_mut()) {
        if !explicit.contains(path) {
            r.not_artifact = None;
        }
    }
    // Directories named on the command line in which nothing was scanned, failed or skipped.
    let mut empty_dirs = Vec::new();
    for root in paths {
        if explicit.contains(root) || !std::fs::metadata(root).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let reported = files.iter().zip(results.iter()).any(|((p, _), r)| {
            p.starts_with(root)
                && (r.file.is_some()
                    || !r.errors.is_empty()
                    || r.skipped.is_some()
                    || r.not_artifact.is_some())
        });
        // A directory that could not be read is reported as that error, not as one holding
        // no artifact: what it holds is not known.
        let unreadable = errors.iter().any(|e| Path::new(&e.path).starts_with(root));
        if !reported && !unreadable {
            let display = root.display().to_string();
            empty_dirs.push(FileError {
                path: display,
                line: 0,
                column: 0,
                message: "no Dockerfile, compose file, Kubernetes manifest or daemon.json found in this directory".into(),
            });
        }
    }
    // Files named by `extends` that findings point into, found in no input.
    results.extend(
        plan.extra
            .iter()
            .map(|i| scan_one(i, opts, false, plan.files.get(&i.path))),
    );
    let mut report = finish(results, opts);
    report.errors.extend(errors);
    report.skipped.extend(empty_dirs);
    report
        .errors
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    report
        .skipped
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    report
}

/// The bytes of a file a scanned file names (a compose file's `extends`), read only if it is a
/// regular file within the parsers' size limit: the name comes from the scanned file, and a
/// pull request could point it at `/dev/zero` or a FIFO.
fn read_referenced(path: &str, limits: &Limits) -> Result<Vec<u8>, String> {
    bulkhead_sources::file::read_regular(Path::new(path), limits.max_bytes as u64)
        .map_err(|e| e.to_string())
}

/// Scan in-memory inputs (stdin, tests, other stages of the pipeline).
pub fn scan_inputs(inputs: &[Input], opts: &ScanOptions) -> ScanReport {
    let compose_files: Vec<(String, Vec<u8>)> = inputs
        .iter()
        .filter(|i| i.kind == Some(ArtifactKind::Compose))
        .map(|i| (i.path.clone(), i.bytes.clone()))
        .collect();
    let read = |path: &str| match inputs.iter().find(|i| i.path == path) {
        Some(i) => Ok(i.bytes.clone()),
        None => read_referenced(path, &opts.limits),
    };
    let scanned: Vec<String> = inputs.iter().map(|i| i.path.clone()).collect();
    let plan = crate::compose_project::plan(&compose_files, &scanned, &read, opts);
    let mut results = parallel_map(inputs, opts.threads, |i| match plan.files.get(&i.path) {
        Some(injected) => scan_one(
            &Input {
                kind: Some(ArtifactKind::Compose),
                ..i.clone()
            },
            opts,
            opts.strict_target,
            Some(injected),
        ),
        None => scan_one(i, opts, opts.strict_target, None),
    });
    results.extend(
        plan.extra
            .iter()
            .map(|i| scan_one(i, opts, false, plan.files.get(&i.path))),
    );
    finish(results, opts)
}

fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let n = if threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        threads
    }
    .min(items.len().max(1));
    if n <= 1 || items.len() < 8 {
        return items.iter().map(&f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let chunks: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    let mut local = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= items.len() {
                            break;
                        }
                        local.push((i, f(&items[i])));
                    }
                    local
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scan worker panicked"))
            .collect()
    });
    for (i, r) in chunks.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots
        .into_iter()
        .map(|r| r.expect("every item scanned"))
        .collect()
}

/// A finding before cross-file filtering.
struct Pending {
    finding: Finding,
    /// k8s-no-network-policy: the namespace the finding is about.
    namespace: Option<String>,
    /// Lines of the statement the finding is part of, when the finding points at less of it
    /// (a command in a RUN heredoc), for suppression comments.
    within: Option<(u32, u32)>,
}

#[derive(Default)]
struct FileResult {
    file: Option<ScannedFile>,
    findings: Vec<Pending>,
    suppressed: Vec<Suppressed>,
    notes: Vec<SuppressionNote>,
    /// What could not be read: the whole file, or single documents of a YAML stream whose other
    /// documents were scanned.
    errors: Vec<FileError>,
    skipped: Option<FileError>,
    /// Not an artifact bulkhead scans, and why: listed as skipped when the file was named
    /// explicitly (an input, or a file in the paths), dropped when found by walking.
    not_artifact: Option<FileError>,
    policy_namespaces: Vec<String>,
}

impl FileResult {
    fn error(e: FileError) -> FileResult {
        FileResult {
            errors: vec![e],
            ..FileResult::default()
        }
    }
}

fn file_error(path: &str, e: SourceError) -> FileResult {
    FileResult::error(to_file_error(path, e))
}

fn to_file_error(path: &str, e: SourceError) -> FileError {
    FileError {
        path: path.to_string(),
        line: e.line,
        column: e.column,
        // A parse error may quote the text it could not read.
        message: bulkhead_facts::mask::mask_text(&e.message),
    }
}

/// Registry entries whose rule the configuration does not disable.
pub(crate) fn enabled<'a, F: Copy>(
    registry: &'a [(&'static str, F)],
    config: &'a Config,
) -> impl Iterator<Item = F> + 'a {
    registry
        .iter()
        .filter(move |(id, _)| catalog::rule(id).is_none_or(|r| !config.is_disabled(r)))
        .map(|(_, f)| *f)
}

/// `injected`: the hits and errors the evaluation of the file's compose project placed in it
/// (see [`crate::compose_project`]); the compose rules are not run on the file alone then. The
/// project evaluation has run the secret rules on this file as written already
/// ([`rules::compose::AS_WRITTEN`]), so a secret the merged model no longer holds is among them.
fn scan_one(
    input: &Input,
    opts: &ScanOptions,
    strict_target: bool,
    injected: Option<&crate::compose_project::Injected>,
) -> FileResult {
    let path = input.path.as_str();
    let text = match check_text(&input.bytes, &opts.limits) {
        Ok(t) => t,
        Err(e) => return file_error(path, e),
    };
    let lines = LineIndex::new(text);
    let mut out = Out::new(text, &lines);
    let mut policy_namespaces = Vec::new();
    let mut objects_for_annotations: Vec<(bulkhead_sources::Span, Vec<&Node>)> = Vec::new();
    // `Kind/namespace/name` of each entry of `objects_for_annotations`.
    let mut annotation_objects: Vec<String> = Vec::new();
    // Byte ranges holding data, where a `#` starts no comment (heredoc bodies, YAML scalars).
    let mut opaque: Vec<std::ops::Range<usize>> = Vec::new();
    // YAML documents that could not be read (the others are scanned), and their errors.
    let mut broken: Vec<std::ops::RangeInclusive<u32>> = Vec::new();
    let mut document_errors: Vec<FileError> = Vec::new();
    // How the file was read when that differs from what was asked (a missing --target stage).
    let mut note: Option<String> = None;
    let kind;
    // Parsed YAML must outlive the rule context; keep it here.
    let docs_holder;
    match input.kind {
        Some(ArtifactKind::Dockerfile) => {
            kind = ArtifactKind::Dockerfile;
            let file = match dockerfile::parse(text, &opts.limits) {
                Ok(f) => f,
                Err(e) => return file_error(path, e),
            };
            opaque.extend(
                file.instructions
                    .iter()
                    .flat_map(|i| i.heredocs.iter().map(|h| h.span.range())),
            );
            let final_stage = match file.final_stage(opts.target.as_deref()) {
                Ok(s) => s,
                Err(e) if strict_target => {
                    return file_error(path, SourceError::at(1, 1, e));
                }
                // Among several Dockerfiles, --target names a stage of some; the others are
                // judged by the stage `docker build` builds without --target.
                Err(e) => match file.final_stage(None) {
                    Ok(last) => {
                        note = Some(format!(
                            "{e}, so --target does not apply; its last stage was judged"
                        ));
                        last
                    }
                    Err(e) => return file_error(path, SourceError::at(1, 1, e)),
                },
            };
            let ctx = rules::dockerfile::Ctx {
                file: &file,
                final_stage,
                config: &opts.config,
            };
            for f in enabled(rules::dockerfile::REGISTRY, &opts.config) {
                f(&ctx, &mut out);
            }
        }
        Some(ArtifactKind::DaemonJson) => {
            kind = ArtifactKind::DaemonJson;
            let root = match daemon_json::parse(text, &opts.limits) {
                Ok(r) => r,
                Err(e) => return file_error(path, e),
            };
            let ctx = rules::daemon::Ctx { root: &root };
            for f in enabled(rules::daemon::REGISTRY, &opts.config) {
                f(&ctx, &mut out);
            }
        }
        forced => {
            // YAML or JSON: compose or Kubernetes (by name or content).
            if forced.is_none() && !(text.contains("apiVersion") && text.contains("kind")) {
                return not_an_artifact(path, text);
            }
            // Strictly (a key written twice is an error) and document by document: a broken
            // document is reported and not scanned, the others are.
            let stream = yaml::parse_stream(text, &opts.limits);
            if forced.is_none() && text.contains("{{") && text.contains("}}") {
                if let Some(at) = template_marker(text, &stream.documents) {
                    return FileResult {
                        skipped: Some(FileError {
                            path: path.to_string(),
                            line: text[..at].matches('\n').count() as u32 + 1,
                            column: 1,
                            message: "looks like a Helm/Go template, not a manifest: render it (helm template) and scan the output".into(),
                        }),
                        ..FileResult::default()
                    };
                }
            }
            if stream.documents.is_empty() && !stream.errors.is_empty() {
                return FileResult {
                    errors: stream
                        .errors
                        .into_iter()
                        .map(|e| to_file_error(path, e.error))
                        .collect(),
                    ..FileResult::default()
                };
            }
            for e in &stream.errors {
                broken.push(e.span.start.line..=e.span.end.line);
                document_errors.push(to_file_error(path, e.error.clone()));
            }
            // The whole file when it cannot be read as (part of) an artifact of its kind.
            let whole_file_errors = |errors: &[FileError]| FileResult {
                errors: errors.to_vec(),
                ..FileResult::default()
            };
            docs_holder = stream.documents;
            let docs = &docs_holder;
            if text.contains("bulkhead:ignore") {
                for d in docs {
                    scalar_ranges(text, &d.root, &mut opaque);
                }
            }
            let is_compose = forced == Some(ArtifactKind::Compose)
                || (forced.is_none()
                    && compose::looks_like_compose(docs)
                    && !kubernetes::looks_like_kubernetes(docs));
            if is_compose {
                kind = ArtifactKind::Compose;
                if !document_errors.is_empty() {
                    // A compose file is one document: a broken one leaves nothing to scan.
                    return whole_file_errors(&document_errors);
                }
                if docs.len() > 1 {
                    return file_error(
                        path,
                        SourceError::new(
                            docs[1].span.start,
                            "a compose file holds one YAML document; found a second one here",
                        ),
                    );
                }
                if let Some(injected) = injected {
                    out.hits.extend(injected.hits.iter().cloned());
                } else {
                    let resolved = rules::compose::with_variable_defaults(docs);
                    let ctx = rules::compose::Ctx {
                        services: compose::services(&resolved),
                        written: compose::services(docs),
                    };
                    for f in enabled(rules::compose::REGISTRY, &opts.config) {
                        f(&ctx, &mut out);
                    }
                }
            } else {
                if !kubernetes::looks_like_kubernetes(docs)
                    && !docs.iter().any(|d| d.root.get("kind").is_some())
                {
                    if !document_errors.is_empty() {
                        // The documents that could not be read are the only candidates.
                        return whole_file_errors(&document_errors);
                    }
                    if forced.is_none() {
                        return not_an_artifact(path, text);
                    }
                    return file_error(
                        path,
                        SourceError::at(1, 1, "no Kubernetes object (apiVersion and kind) found"),
                    );
                }
                kind = ArtifactKind::Kubernetes;
                let objects = kubernetes::objects(docs);
                for o in &objects {
                    if o.kind() == "NetworkPolicy" {
                        policy_namespaces.push(o.namespace().unwrap_or("default").to_string());
                    }
                    let mut ann: Vec<&Node> = Vec::new();
                    ann.extend(o.annotations());
                    if let Some(p) = o.pod() {
                        ann.extend(p.metadata.and_then(|m| m.get("annotations")));
                    }
                    objects_for_annotations.push((o.node.span, ann));
                    annotation_objects.push(o.display());
                }
                let ctx = rules::kubernetes::Ctx {
                    objects,
                    config: &opts.config,
                };
                for f in enabled(rules::kubernetes::REGISTRY, &opts.config) {
                    f(&ctx, &mut out);
                }
                // namespace for cross-file filtering
                for h in &mut out.hits {
                    if h.rule == "k8s-no-network-policy" {
                        let ns = ctx
                            .objects
                            .iter()
                            .find(|o| contains(o.node.span, h.span))
                            .map(|o| o.namespace().unwrap_or("default").to_string());
                        h.object = format!(
                            "{}\u{0}{}",
                            h.object,
                            ns.unwrap_or_else(|| "default".into())
                        );
                    }
                }
            }
        }
    }

    // Inline comment suppressions, from real comments only (JSON has none).
    let syntax = match kind {
        ArtifactKind::Dockerfile => CommentSyntax::Dockerfile,
        ArtifactKind::DaemonJson => CommentSyntax::None,
        _ if path.to_ascii_lowercase().ends_with(".json") => CommentSyntax::None,
        _ => CommentSyntax::Yaml,
    };
    let mut inline: Vec<Inline> = suppress::inline_comments(text, syntax, &opaque);
    // Comments in a document that could not be read neither suppress nor go stale.
    inline.retain(|c| !broken.iter().any(|b| b.contains(&c.line)));
    for e in &mut document_errors {
        e.message
            .push_str("; this document is not scanned (the file's other documents are)");
    }
    // Annotation suppressions: (object span, annotation key node, rule, reason, used)
    let mut annotations: Vec<(bulkhead_sources::Span, &Node, String, String, bool)> = Vec::new();
    for (span, anns) in &objects_for_annotations {
        for a in anns {
            for (k, v) in a.as_map().unwrap_or(&[]) {
                // A Pod's own annotations are its pod's too: count each key once.
                if annotations.iter().any(|a| a.1.span == k.span) {
                    continue;
                }
                if let Some(rule) = k.as_str().and_then(|k| k.strip_prefix(ANNOTATION_PREFIX)) {
                    annotations.push((
                        *span,
                        k,
                        rule.to_string(),
                        v.as_str().unwrap_or("").to_string(),
                        false,
                    ));
                }
            }
        }
    }
    // Every suppression says why; one that does not suppresses nothing and is a finding itself.
    if let Some(rule) = rules::suppression_without_reason(kind)
        .filter(|id| catalog::rule(id).is_none_or(|r| !opts.config.is_disabled(r)))
    {
        for c in inline.iter().filter(|c| !c.has_reason()) {
            let span = bulkhead_sources::Span::new(
                lines.pos(text, c.range.start),
                lines.pos(text, c.range.end),
            );
            let marker = if c.file_wide {
                "bulkhead:ignore-file"
            } else {
                "bulkhead:ignore"
            };
            out.hit(
                rule,
                span,
                format!("{marker} comment"),
                format!(
                    "the suppression of {} gives no reason, so it suppresses nothing: write why after the rule IDs",
                    c.rules.join(",")
                ),
            );
        }
        for (object, key, name, reason, _) in &annotations {
            if reason.trim().is_empty() {
                let object = objects_for_annotations
                    .iter()
                    .zip(&annotation_objects)
                    .find(|((s, _), _)| s == object)
                    .map(|(_, o)| o.clone())
                    .unwrap_or_default();
                out.hit(
                    rule,
                    key.span,
                    object,
                    format!(
                        "the annotation {ANNOTATION_PREFIX}{name} gives no reason (its value is empty), so it suppresses nothing"
                    ),
                );
            }
        }
    }

    let hits = std::mem::take(&mut out.hits);
    // A secret one rule found is masked in the snippet of every finding that shows its line.
    let secrets: Vec<bulkhead_sources::Span> = hits
        .iter()
        .flat_map(|h| h.secrets.iter().copied())
        .collect();
    let mut findings: Vec<Pending> = hits
        .into_iter()
        .filter_map(|h| to_finding(h, path, kind, text, &lines, &secrets))
        .collect();
    findings.sort_by(|a, b| {
        (
            a.finding.location.offset,
            &a.finding.rule,
            &a.finding.object,
        )
            .cmp(&(
                b.finding.location.offset,
                &b.finding.rule,
                &b.finding.object,
            ))
    });

    let mut suppressed = Vec::new();
    let mut kept = Vec::new();
    for p in findings {
        if let Some(i) = inline
            .iter()
            .position(|s| s.covers(&p.finding) || s.covers_statement(&p.finding, p.within))
        {
            inline[i].used = true;
            let source = if inline[i].file_wide {
                SuppressionSource::InlineFile
            } else {
                SuppressionSource::InlineLine
            };
            suppressed.push(Suppressed {
                finding: p.finding,
                source,
                reason: inline[i].reason.clone(),
            });
            continue;
        }
        let off = p.finding.location.offset;
        if let Some(a) = annotations.iter_mut().find(|a| {
            !a.3.trim().is_empty()
                && a.0.start.offset <= off
                && off <= a.0.end.offset
                && catalog::rule(&p.finding.rule).is_some_and(|r| r.is_named(&a.2))
        }) {
            a.4 = true;
            suppressed.push(Suppressed {
                finding: p.finding,
                source: SuppressionSource::Annotation,
                reason: a.3.clone(),
            });
            continue;
        }
        kept.push(p);
    }
    let mut notes: Vec<SuppressionNote> = inline.iter().flat_map(|s| s.notes(path)).collect();
    for (_, k, rule, reason, used) in &annotations {
        let problem = if catalog::lookup(rule).is_none() {
            Some(SuppressionProblem::UnknownRule)
        } else if !used && !reason.trim().is_empty() {
            Some(SuppressionProblem::Unused)
        } else {
            None
        };
        if let Some(problem) = problem {
            notes.push(SuppressionNote {
                source: SuppressionSource::Annotation,
                location: format!("{path}:{}", k.span.start.line),
                rule: rule.clone(),
                problem,
            });
        }
    }
    FileResult {
        file: Some(ScannedFile {
            path: path.to_string(),
            kind,
            note,
        }),
        findings: kept,
        suppressed,
        notes,
        errors: document_errors
            .into_iter()
            .chain(injected.iter().flat_map(|i| i.errors.iter().cloned()))
            .collect(),
        skipped: None,
        not_artifact: None,
        policy_namespaces,
    }
}

/// Why a YAML or JSON file without a kind is not scanned: empty, a key spelled in the wrong
/// letter case (`apiversion:`), a compose file under another name, or nothing bulkhead knows.
fn not_an_artifact(path: &str, text: &str) -> FileResult {
    let mut content = false;
    let mut compose = false;
    let mut reason: Option<(u32, u32, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t == "---" || t == "..." {
            continue;
        }
        content = true;
        compose |= line.starts_with("services:");
        let key = t
            .trim_start_matches(['-', '{', ' '])
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(['"', '\'']);
        for want in ["apiVersion", "kind"] {
            if reason.is_none() && key != want && key.eq_ignore_ascii_case(want) {
                let column = line.find(key).unwrap_or(0) as u32 + 1;
                reason = Some((
                    i as u32 + 1,
                    column,
                    format!("the key {key:?} is not {want:?} (keys are case-sensitive), so this is not read as a Kubernetes manifest"),
                ));
            }
        }
    }
    let (line, column, message) = reason.unwrap_or_else(|| {
        let message = if !content {
            "empty: no YAML or JSON document to scan".to_string()
        } else if compose {
            "looks like a compose file, but its name does not say so: name it compose.yaml or docker-compose.yml, or pass --kind compose".to_string()
        } else {
            "not a Kubernetes manifest (no document with apiVersion and kind), and its name is not that of a Dockerfile, compose file or daemon.json; pass --kind to scan it as one".to_string()
        };
        (0, 0, message)
    });
    FileResult {
        not_artifact: Some(FileError {
            path: path.to_string(),
            line,
            column,
            message,
        }),
        ..FileResult::default()
    }
}

/// The offset of the first `{{` that makes a YAML file a Go (Helm) template rather than a
/// manifest, if any: one outside the quoted and block scalars of the documents that parse (in
/// the structure, a plain scalar, or a document that does not parse), or one inside such a
/// scalar that uses Helm's built-in objects. Any other `{{` is text of a string value, which
/// the API server stores as written: rendered charts keep alert and notification templates
/// (`"{{ $labels.pod }} is down"`) that way.
fn template_marker(text: &str, docs: &[yaml::Document]) -> Option<usize> {
    let mut strings = Vec::new();
    for d in docs {
        string_ranges(text, &d.root, &mut strings);
    }
    text.match_indices("{{").map(|(at, _)| at).find(|&at| {
        let in_string = strings.iter().any(|r| r.contains(&at));
        let expression = &text[at..];
        let expression = &expression[..expression.find("}}").unwrap_or(expression.len())];
        !in_string || uses_helm_objects(expression)
    })
}

/// Does a `{{ ... }}` expression read Helm's built-in objects (`.Values`, `.Release`, ...)?
/// Only a chart template does; Prometheus, Alertmanager and Argo templates have their own.
fn uses_helm_objects(expression: &str) -> bool {
    const OBJECTS: &[&str] = &[
        ".Values",
        ".Release.",
        ".Chart.",
        ".Capabilities.",
        ".Files.",
        ".Template.",
    ];
    OBJECTS.iter().any(|o| {
        expression.match_indices(o).any(|(i, _)| {
            let before = expression[..i].chars().next_back();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
        })
    })
}

/// The byte ranges of the quoted and block scalars under `node`: text there is a value, never
/// YAML structure.
fn string_ranges(text: &str, node: &Node, out: &mut Vec<std::ops::Range<usize>>) {
    match &node.kind {
        yaml::NodeKind::Scalar(s) if !s.style.is_plain() => {
            let mut ranges = Vec::new();
            scalar_ranges(text, node, &mut ranges);
            out.extend(ranges);
        }
        yaml::NodeKind::Scalar(_) => {}
        yaml::NodeKind::Seq(items) => items.iter().for_each(|n| string_ranges(text, n, out)),
        yaml::NodeKind::Map(entries) => entries.iter().for_each(|(k, v)| {
            string_ranges(text, k, out);
            string_ranges(text, v, out);
        }),
    }
}

/// The byte ranges of every scalar (keys included) under `node`.
fn scalar_ranges(text: &str, node: &Node, out: &mut Vec<std::ops::Range<usize>>) {
    match &node.kind {
        yaml::NodeKind::Scalar(s) => {
            let mut r = node.span.range();
            // The parser ends a quoted scalar's span where the next token starts, so a comment
            // after the closing quote would be inside it: end at the closing quote instead.
            let quote = match s.style {
                yaml::Style::DoubleQuoted => Some(b'"'),
                yaml::Style::SingleQuoted => Some(b'\''),
                _ => None,
            };
            if let Some(q) = quote {
                if let Some(end) = closing_quote(text, r.clone(), q) {
                    r.end = end;
                }
            }
            if r.end > r.start {
                out.push(r);
            }
        }
        yaml::NodeKind::Seq(items) => items.iter().for_each(|n| scalar_ranges(text, n, out)),
        yaml::NodeKind::Map(entries) => entries.iter().for_each(|(k, v)| {
            scalar_ranges(text, k, out);
            scalar_ranges(text, v, out);
        }),
    }
}

/// The end (after the closing quote) of the quoted scalar that opens with `q` in `span`.
fn closing_quote(text: &str, span: std::ops::Range<usize>, q: u8) -> Option<usize> {
    let start = span.start;
    let b = text.as_bytes().get(span)?;
    let open = b.iter().position(|&c| c == q)?;
    let mut i = open + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if q == b'"' => i += 1,
            c if c == q && q == b'\'' && b.get(i + 1) == Some(&q) => i += 1,
            c if c == q => return Some(start + i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn contains(outer: bulkhead_sources::Span, inner: bulkhead_sources::Span) -> bool {
    outer.start.offset <= inner.start.offset && inner.start.offset <= outer.end.offset
}

/// Build the finding for a hit: metadata from the catalog, location, masked snippet.
fn to_finding(
    h: Hit,
    path: &str,
    kind: ArtifactKind,
    text: &str,
    lines: &LineIndex,
    secrets: &[bulkhead_sources::Span],
) -> Option<Pending> {
    let rule: &Rule = catalog::rule(h.rule)?;
    let (object, namespace) = match h.object.split_once('\u{0}') {
        Some((o, ns)) => (o.to_string(), Some(ns.to_string())),
        None => (h.object.clone(), None),
    };
    let start = h.span.start;
    let end = if h.span.end.offset >= start.offset {
        h.span.end
    } else {
        start
    };
    let snippet = snippet(text, lines, start.line, end.line, secrets);
    // Messages never carry values, but mask any that slipped in.
    let message = bulkhead_facts::mask::mask_text(&h.message);
    let fix = h.fix.map(|mut fix| {
        for e in &mut fix.edits {
            e.column = shown_column(text, e.line, e.offset, e.column);
        }
        fix
    });
    Some(Pending {
        finding: Finding {
            rule: rule.id.clone(),
            title: rule.title.clone(),
            severity: rule.severity,
            status: rule.severity.status(),
            message,
            artifact: kind,
            location: Location {
                path: path.to_string(),
                line: start.line.max(1),
                column: shown_column(text, start.line, start.offset, start.column).max(1),
                end_line: end.line.max(1),
                end_column: shown_column(text, end.line, end.offset, end.column).max(1),
                offset: start.offset,
                length: end.offset - start.offset,
            },
            object,
            control: rule.control.clone(),
            benchmark_refs: rule.benchmark_refs.clone(),
            aliases: rule.aliases.clone(),
            stride: rule.stride.clone(),
            fix,
            snippet,
            fingerprint: String::new(),
        },
        namespace,
        within: h.within.map(|w| (w.start.line, w.end.line)),
    })
}

/// The column of a position as editors show it. A byte order mark is not shown, so on the first
/// line of a file that starts with one the mark is not a column (the parsers count it as a
/// character); offsets still count its bytes, as edits must.
fn shown_column(text: &str, line: u32, offset: usize, column: u32) -> u32 {
    if line == 1 && offset >= BOM.len() && text.starts_with(BOM) {
        column.saturating_sub(1).max(1)
    } else {
        column
    }
}

/// Source lines `first..=last` (at most 4), with secret spans replaced by the mask, then
/// whatever the shared masking recognises (`NAME=value` with a secret name, URL userinfo,
/// curl/wget passwords, bearer tokens, token formats) masked too, whether or not a rule
/// reported it: a snippet is printed in every output format.
fn snippet(
    text: &str,
    lines: &LineIndex,
    first: u32,
    last: u32,
    secrets: &[bulkhead_sources::Span],
) -> String {
    let last = last.min(first + 3).max(first);
    let mut start = lines.line_start(first, text.len());
    // The byte order mark is not part of the first line's text (and fingerprints, made from
    // snippets, stay the same when an editor adds or drops one).
    if start == 0 && text.starts_with(BOM) {
        start = BOM.len();
    }
    let end = lines.line_start(last + 1, text.len());
    let mut out = String::new();
    let mut at = start;
    let mut spans: Vec<(usize, usize)> = secrets
        .iter()
        .map(|s| (s.start.offset.max(start), s.end.offset.min(end)))
        .filter(|(a, b)| a < b)
        .collect();
    spans.sort();
    for (a, b) in spans {
        if a < at {
            at = at.max(b);
            continue;
        }
        out.push_str(text.get(at..a).unwrap_or(""));
        out.push_str(bulkhead_facts::mask::MASK);
        at = b;
    }
    out.push_str(text.get(at..end).unwrap_or(""));
    let out = out.trim_end_matches(['\n', '\r']);
    // A CRLF file's carriage returns end lines, they are not text: kept, JSON and SARIF would
    // show them as `\r` and terminals would return to the line start.
    let per_line = out
        .split('\n')
        .map(|l| bulkhead_facts::mask::mask_text(l.strip_suffix('\r').unwrap_or(l)))
        .collect::<Vec<_>>()
        .join("\n");
    // Once more over all lines: a curl option may sit on a continuation line below `curl`.
    bulkhead_facts::mask::mask_credentials(&per_line)
}

/// Merge per-file results, apply cross-file rules, configuration suppressions and the baseline.
fn finish(results: Vec<FileResult>, opts: &ScanOptions) -> ScanReport {
    let mut report = ScanReport::default();
    let mut pending = Vec::new();
    let mut policy: BTreeSet<String> = BTreeSet::new();
    for r in results {
        report.files.extend(r.file);
        report.errors.extend(r.errors);
        report.skipped.extend(r.skipped);
        report.skipped.extend(r.not_artifact);
        report.suppressed.extend(r.suppressed);
        report.suppression_notes.extend(r.notes);
        policy.extend(r.policy_namespaces);
        pending.extend(r.findings);
    }
    let mut findings: Vec<Finding> = pending
        .into_iter()
        .filter(|p| {
            p.finding.rule != "k8s-no-network-policy"
                || !p.namespace.as_ref().is_some_and(|ns| policy.contains(ns))
        })
        .map(|p| p.finding)
        .collect();
    findings.sort_by(|a, b| {
        (&a.location.path, a.location.offset, &a.rule, &a.object).cmp(&(
            &b.location.path,
            b.location.offset,
            &b.rule,
            &b.object,
        ))
    });
    suppress::assign_fingerprints(&mut findings, opts.source_root.as_ref());
    // Fingerprints of inline/annotation-suppressed findings too, so a baseline can name them.
    let mut sup: Vec<Finding> = report
        .suppressed
        .iter()
        .map(|s| s.finding.clone())
        .collect();
    suppress::assign_fingerprints(&mut sup, opts.source_root.as_ref());
    for (s, f) in report.suppressed.iter_mut().zip(sup) {
        s.finding.fingerprint = f.fingerprint;
    }

    // Configuration entries.
    let entries = &opts.config.ignore;
    let mut used = vec![false; entries.len()];
    let expired: Vec<bool> = entries
        .iter()
        .map(|e| {
            e.expires
                .as_deref()
                .and_then(config::parse_date)
                .is_some_and(|d| d < opts.today)
        })
        .collect();
    let globs: Vec<_> = entries.iter().map(|e| config::globs(&e.paths)).collect();
    let mut kept = Vec::new();
    for f in findings {
        let hit = entries.iter().enumerate().find(|(i, e)| {
            !expired[*i]
                && catalog::rule(&f.rule).is_some_and(|r| r.is_named(&e.rule))
                && (e.paths.is_empty() || globs[*i].is_match(&f.location.path))
                && e.object.as_deref().is_none_or(|o| f.object.contains(o))
        });
        match hit {
            Some((i, e)) => {
                used[i] = true;
                report.suppressed.push(Suppressed {
                    finding: f,
                    source: SuppressionSource::Config,
                    reason: e.reason.clone(),
                });
            }
            None => kept.push(f),
        }
    }
    for (i, e) in entries.iter().enumerate() {
        let problem = if catalog::lookup(&e.rule).is_none() {
            Some(SuppressionProblem::UnknownRule)
        } else if expired[i] {
            Some(SuppressionProblem::Expired)
        } else if !used[i] {
            Some(SuppressionProblem::Unused)
        } else {
            None
        };
        if let Some(problem) = problem {
            report.suppression_notes.push(SuppressionNote {
                source: SuppressionSource::Config,
                location: e.location(&opts.config, i),
                rule: e.rule.clone(),
                problem,
            });
        }
    }

    // Baseline.
    if let Some(b) = &opts.baseline {
        let mut seen = BTreeSet::new();
        let mut still = Vec::new();
        for f in kept {
            if b.fingerprints.contains(&f.fingerprint) {
                seen.insert(f.fingerprint.clone());
                report.suppressed.push(Suppressed {
                    finding: f,
                    source: SuppressionSource::Baseline,
                    reason: "in the baseline".into(),
                });
            } else {
                still.push(f);
            }
        }
        kept = still;
        report.baseline_resolved = b
            .fingerprints
            .iter()
            .filter(|fp| !seen.contains(*fp))
            .count();
    }
    report.findings = kept;
    report.files.sort_by(|a, b| a.path.cmp(&b.path));
    report
        .suppression_notes
        .sort_by(|a, b| a.location.cmp(&b.location));
    report
}

/// Apply non-overlapping edits (from several fixes) to `text`. Overlapping edits are refused
/// with the offset of the conflict.
pub fn apply_edits(text: &str, edits: &[Edit]) -> Result<String, String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.offset, e.length));
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for e in sorted {
        if e.offset < at {
            return Err(format!(
                "edits overlap at byte {} (line {})",
                e.offset, e.line
            ));
        }
        let end = e.offset + e.length;
        if end > text.len() || !text.is_char_boundary(e.offset) || !text.is_char_boundary(end) {
            return Err(format!(
                "edit at byte {} (line {}) is outside the text",
                e.offset, e.line
            ));
        }
        out.push_str(&text[at..e.offset]);
        out.push_str(&e.replacement);
        at = end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}
