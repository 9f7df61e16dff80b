//! Dockerfile edits on the stage a build produces (the final stage, or a `--target`): set the
//! user it runs as, add a HEALTHCHECK. Instructions are located with
//! `bulkhead_sources::dockerfile` (spans, stages, continuation lines, heredocs), so only the
//! changed line is written, ended like the file's other lines; everything else stays as written.
//!
//! New instructions go before the stage's trailing run-time metadata (CMD, ENTRYPOINT, EXPOSE,
//! ...), after the build steps that may still need root. Only a USER of the stage itself is
//! replaced: a builder stage's USER does not carry over to the final image, and a base stage's
//! USER is left to the other images built on it (the final stage gets its own line).
//!
//! The scanner's `dockerfile-root-final-stage` and `dockerfile-no-user` fixes and harden's
//! Dockerfile fixer both call [`user_splice`] (through [`set_user`] for harden); HEALTHCHECK is
//! [`healthcheck_splice`] / [`add_healthcheck`].

use super::{line_start, Splice};
use bulkhead_sources::dockerfile::{self, is_root_user, Dockerfile, Stage};
use bulkhead_sources::span::Limits;

/// Instructions that describe how the image runs rather than build it.
const RUNTIME_METADATA: &[&str] = &[
    "CMD",
    "ENTRYPOINT",
    "HEALTHCHECK",
    "EXPOSE",
    "LABEL",
    "STOPSIGNAL",
    "VOLUME",
];

fn parse(text: &str) -> Result<Dockerfile, String> {
    dockerfile::parse(text, &Limits::default()).map_err(|e| e.to_string())
}

fn final_stage<'d>(df: &'d Dockerfile, target: Option<&str>) -> Result<&'d Stage, String> {
    df.final_stage(target)
}

/// Byte offset where a new instruction goes in `stage`: the start of the line of the first
/// instruction of its trailing run of runtime metadata, or the end of the stage.
fn insertion_point(text: &str, df: &Dockerfile, stage: &Stage) -> usize {
    let mut at = None;
    for &i in stage.body.iter().rev() {
        let ins = df.instruction(i);
        if RUNTIME_METADATA.contains(&ins.keyword.as_str()) && !ins.onbuild {
            at = Some(ins.span.start.offset);
        } else {
            break;
        }
    }
    match at {
        Some(off) => line_start(text, off),
        None => stage_end(text, df, stage),
    }
}

/// Where the stage's last line ends (after its newline): the end of the text for the last
/// stage, else the start of the next stage's FROM line.
fn stage_end(text: &str, df: &Dockerfile, stage: &Stage) -> usize {
    match df.stages.get(stage.index + 1) {
        Some(next) => {
            let off = df.instruction(next.from).span.start.offset;
            // Back over the comment and blank lines that introduce the next stage.
            let mut at = line_start(text, off);
            let last = stage
                .body
                .last()
                .map(|&i| df.instruction(i))
                .unwrap_or_else(|| df.instruction(stage.from));
            let floor = text[last.span.end.offset..]
                .find('\n')
                .map(|i| last.span.end.offset + i + 1)
                .unwrap_or(text.len());
            while at > floor {
                let prev = line_start(text, at - 1);
                let line = text[prev..at].trim();
                if line.is_empty() || line.starts_with('#') {
                    at = prev;
                } else {
                    break;
                }
            }
            at.max(floor)
        }
        None => text.len(),
    }
}

/// `line` inserted at `at` as a line of its own, ended like the file's lines.
fn insert_line(text: &str, at: usize, line: &str) -> Splice {
    let sep = if at > 0 && !text[..at].ends_with('\n') {
        "\n"
    } else {
        ""
    };
    Splice::insert(at, format!("{sep}{line}\n")).with_line_breaks_of(text)
}

/// The user the final stage runs as, as written (`None`: no USER, so root unless the base image
/// sets one).
pub fn final_user(text: &str, target: Option<&str>) -> Result<Option<String>, String> {
    let df = parse(text)?;
    let stage = final_stage(&df, target)?;
    Ok(df
        .effective_user(stage)
        .map(|u| u.resolved.unwrap_or(u.written)))
}

/// Make the final stage run as `user`: replace its last USER when that names root, else add
/// `USER user` before the runtime metadata. `None` when it already runs as a non-root user.
pub fn set_user(text: &str, target: Option<&str>, user: &str) -> Result<Option<String>, String> {
    let df = parse(text)?;
    let stage = final_stage(&df, target)?;
    Ok(user_splice(text, &df, stage, user).map(|s| s.apply(text)))
}

/// [`set_user`] on a parsed Dockerfile, for `stage`, as a splice of `text`.
pub fn user_splice(text: &str, df: &Dockerfile, stage: &Stage, user: &str) -> Option<Splice> {
    user_splice_when(text, df, stage, user, is_root_user)
}

/// [`user_splice`] with the caller's judgement of which effective USER to replace (given the
/// resolved value, or the USER as written when it does not resolve): a rule that has found the
/// stage privileged in a way [`is_root_user`] does not see (Windows' `ContainerAdministrator`,
/// a USER that reads a global ARG the stage does not declare) replaces it too.
pub fn user_splice_when(
    text: &str,
    df: &Dockerfile,
    stage: &Stage,
    user: &str,
    privileged: impl Fn(&str) -> bool,
) -> Option<Splice> {
    // Only a USER in this very stage counts: a builder stage's USER does not carry over to the
    // final image (PITFALLS, artifact scanners 1).
    let own = stage
        .body
        .iter()
        .rev()
        .copied()
        .find(|&i| df.instruction(i).keyword == "USER" && !df.instruction(i).onbuild);
    match own {
        Some(i) => {
            let eu = df.effective_user(stage).expect("the stage has a USER");
            let value = eu.resolved.clone().unwrap_or(eu.written.clone());
            if !privileged(&value) {
                return None;
            }
            let ins = df.instruction(i);
            let span = ins.args_span;
            let written = &text[span.range()];
            // Arguments joined from continuation lines (`USER ro\` + `ot`) are not all on the
            // first line: the instruction is rewritten whole, on one line.
            if written.trim_end() != ins.args {
                return Some(Splice::new(ins.span.range(), format!("USER {user}")));
            }
            // Only the words: trailing spaces or a comment-free line end stay as written.
            let start = span.start.offset + (written.len() - written.trim_start().len());
            let end = span.start.offset + written.trim_end().len();
            Some(Splice::new(start..end, user))
        }
        None => {
            if let Some(u) = df.effective_user(stage) {
                let value = u.resolved.unwrap_or(u.written);
                if !privileged(&value) {
                    return None;
                }
            }
            let at = insertion_point(text, df, stage);
            Some(insert_line(text, at, &format!("USER {user}")))
        }
    }
}

/// The first port the final stage EXPOSEs (for a default health probe).
pub fn exposed_port(text: &str, target: Option<&str>) -> Result<Option<u16>, String> {
    let df = parse(text)?;
    let stage = final_stage(&df, target)?;
    Ok(stage_port(&df, stage))
}

/// The first port `stage` EXPOSEs.
pub fn stage_port(df: &Dockerfile, stage: &Stage) -> Option<u16> {
    df.in_stage(stage, "EXPOSE")
        .flat_map(|(_, ins)| {
            ins.args
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter_map(|p| p.split('/').next().and_then(|n| n.parse().ok()))
        .next()
}

/// Give the final stage a HEALTHCHECK running `cmd` (shell form): replace `HEALTHCHECK NONE`,
/// or add one before the runtime metadata. `None` when it already has a health check.
pub fn add_healthcheck(
    text: &str,
    target: Option<&str>,
    cmd: &str,
) -> Result<Option<String>, String> {
    let df = parse(text)?;
    let stage = final_stage(&df, target)?;
    Ok(healthcheck_splice(text, &df, stage, cmd).map(|s| s.apply(text)))
}

/// [`add_healthcheck`] on a parsed Dockerfile, for `stage`, as a splice of `text`.
pub fn healthcheck_splice(text: &str, df: &Dockerfile, stage: &Stage, cmd: &str) -> Option<Splice> {
    let line = format!("HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD {cmd}");
    let existing = df.in_stage(stage, "HEALTHCHECK").last();
    match existing {
        // The whole instruction, continuation lines included (`HEALTHCHECK \` + `NONE`).
        Some((_, ins)) if ins.args.trim().eq_ignore_ascii_case("NONE") => {
            Some(Splice::new(ins.span.range(), line))
        }
        Some(_) => None,
        None => {
            let at = insertion_point(text, df, stage);
            Some(insert_line(text, at, &line))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_goes_before_the_runtime_metadata_of_the_final_stage() {
        let text = "FROM golang:1.22 AS build\nUSER builder\nRUN go build -o /app .\n\nFROM debian:12\n# runtime\nCOPY --from=build /app /app\nRUN apt-get update \\\n && apt-get install -y ca-certificates\nEXPOSE 8080\nCMD [\"/app\"]\n";
        // PITFALLS (artifact scanners 1): the builder's USER does not make the final stage
        // non-root.
        assert_eq!(final_user(text, None).unwrap(), None);
        let out = set_user(text, None, "1000:1000").unwrap().unwrap();
        assert_eq!(
            out,
            text.replace("EXPOSE 8080\n", "USER 1000:1000\nEXPOSE 8080\n")
        );
        assert_eq!(
            final_user(&out, None).unwrap().as_deref(),
            Some("1000:1000")
        );
        assert_eq!(
            set_user(&out, None, "1000:1000").unwrap(),
            None,
            "already non-root"
        );
        let out = add_healthcheck(
            &out,
            None,
            "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1",
        )
        .unwrap()
        .unwrap();
        assert!(out.contains("USER 1000:1000\nHEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1\nEXPOSE 8080\n"), "{out}");
        assert_eq!(exposed_port(text, None).unwrap(), Some(8080));
    }

    #[test]
    fn root_user_is_replaced_in_place_and_healthcheck_none_too() {
        let text = "FROM alpine:3.20\nARG UID=0\nUSER ${UID}   \nHEALTHCHECK NONE\nCMD [\"sh\"]";
        let out = set_user(text, None, "app").unwrap().unwrap();
        assert_eq!(
            out,
            "FROM alpine:3.20\nARG UID=0\nUSER app   \nHEALTHCHECK NONE\nCMD [\"sh\"]"
        );
        let out = add_healthcheck(&out, None, "true").unwrap().unwrap();
        assert!(
            out.contains("\nHEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD true\nCMD"),
            "{out}"
        );
        // No trailing metadata and no final newline: appended on a new line.
        let out = set_user("FROM scratch\nCOPY app /app", None, "65534")
            .unwrap()
            .unwrap();
        assert_eq!(out, "FROM scratch\nCOPY app /app\nUSER 65534\n");
    }

    #[test]
    fn a_target_stage_gets_its_lines_inside_itself() {
        // `--target app` builds the first stage: its USER must not land in the stage after it.
        let text = "FROM alpine:3.20 AS app\nRUN adduser -D app\n\n# tests\nFROM app AS test\nRUN make test\n";
        let out = set_user(text, Some("app"), "10001").unwrap().unwrap();
        assert_eq!(
            out,
            "FROM alpine:3.20 AS app\nRUN adduser -D app\nUSER 10001\n\n# tests\nFROM app AS test\nRUN make test\n"
        );
        assert_eq!(
            final_user(&out, Some("app")).unwrap().as_deref(),
            Some("10001")
        );
        // The last stage inherits the new user from its base stage.
        assert_eq!(final_user(&out, None).unwrap().as_deref(), Some("10001"));
    }
}
