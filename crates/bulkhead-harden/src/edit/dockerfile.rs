//! Dockerfile edits on the stage a build produces (the final stage, or a `--target`): set the
//! user it runs as, add a HEALTHCHECK. Instructions are located with
//! `bulkhead_sources::dockerfile` (spans, stages, continuation lines, heredocs), so only the
//! changed line is written; everything else stays as written.
//!
//! New instructions go before the stage's trailing run-time metadata (CMD, ENTRYPOINT, EXPOSE,
//! ...), after the build steps that may still need root.

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
/// instruction of its trailing run of runtime metadata, or the end of the text.
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
        Some(off) => text[..off].rfind('\n').map(|i| i + 1).unwrap_or(0),
        None => text.len(),
    }
}

fn insert_line(text: &str, at: usize, line: &str) -> String {
    let mut s = String::with_capacity(text.len() + line.len() + 2);
    s.push_str(&text[..at]);
    if at > 0 && !text[..at].ends_with('\n') {
        s.push('\n');
    }
    s.push_str(line);
    s.push('\n');
    s.push_str(&text[at..]);
    s
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
            if !is_root_user(&value) {
                return Ok(None);
            }
            // Only the words: trailing spaces or a comment-free line end stay as written.
            let span = df.instruction(i).args_span;
            let written = &text[span.range()];
            let start = span.start.offset + (written.len() - written.trim_start().len());
            let end = span.start.offset + written.trim_end().len();
            let mut s = text.to_string();
            s.replace_range(start..end, user);
            Ok(Some(s))
        }
        None => {
            if let Some(u) = df.effective_user(stage) {
                let value = u.resolved.unwrap_or(u.written);
                if !is_root_user(&value) {
                    return Ok(None);
                }
            }
            let at = insertion_point(text, &df, stage);
            Ok(Some(insert_line(text, at, &format!("USER {user}"))))
        }
    }
}

/// The first port the final stage EXPOSEs (for a default health probe).
pub fn exposed_port(text: &str, target: Option<&str>) -> Result<Option<u16>, String> {
    let df = parse(text)?;
    let stage = final_stage(&df, target)?;
    let port = df
        .in_stage(stage, "EXPOSE")
        .flat_map(|(_, ins)| {
            ins.args
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter_map(|p| p.split('/').next().and_then(|n| n.parse().ok()))
        .next();
    Ok(port)
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
    let line = format!("HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD {cmd}");
    let existing = df.in_stage(stage, "HEALTHCHECK").last();
    match existing {
        Some((_, ins)) if ins.args.trim().eq_ignore_ascii_case("NONE") => {
            let start = ins.span.start.offset;
            let mut s = text.to_string();
            s.replace_range(start..ins.args_span.end.offset, &line);
            Ok(Some(s))
        }
        Some(_) => Ok(None),
        None => {
            let at = insertion_point(text, &df, stage);
            Ok(Some(insert_line(text, at, &line)))
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
}
