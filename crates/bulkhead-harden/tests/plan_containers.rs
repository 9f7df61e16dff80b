//! Planning container, compose and Dockerfile fixes from inspect documents (built in code here;
//! tests/e2e_docker.rs runs the same against a real daemon).

mod common;

use bulkhead_checks::{CheckResult, ObjectResult, Status};
use bulkhead_facts::docker::*;
use bulkhead_facts::Fact;
use bulkhead_harden::{plan, shell, FixKind, PlanRequest};
use common::*;
use std::collections::BTreeMap;

fn container(name: &str, edit: impl FnOnce(&mut Container)) -> ContainerFacts {
    running_container(
        name,
        "registry.example/web:1.4",
        &["serve", "--port", "80"],
        edit,
    )
}

fn fails_for(c: &ContainerFacts) -> CheckResult {
    fail_containers(std::slice::from_ref(c))
}

fn request(root: &std::path::Path, select: &[&str]) -> PlanRequest {
    PlanRequest {
        root: Some(root.to_path_buf()),
        select: select.iter().map(|s| s.to_string()).collect(),
        threat_links: Some(vec![]),
        ..Default::default()
    }
}

#[test]
fn run_command_keeps_the_container_and_adds_only_what_fails() {
    let root = temp_root("run");
    let c = container("web", |c| {
        c.config.env = vec![
            "PATH=/usr/bin".into(),
            "MODE=prod".into(),
            "DB_PASSWORD=***".into(),
        ];
        c.config.labels = BTreeMap::from([("team".into(), "payments".into())]);
        c.config.working_dir = "/srv".into();
        c.host_config.network_mode = "appnet".into();
        c.host_config.port_bindings = Some(BTreeMap::from([(
            "80/tcp".into(),
            Some(vec![
                PortBinding {
                    host_ip: "127.0.0.1".into(),
                    host_port: "8080".into(),
                },
                PortBinding {
                    host_ip: "::1".into(),
                    host_port: "8080".into(),
                },
            ]),
        )]));
        c.mounts = vec![
            MountPoint {
                kind: "volume".into(),
                name: "webdata".into(),
                destination: "/data".into(),
                rw: true,
                ..Default::default()
            },
            MountPoint {
                kind: "bind".into(),
                source: "/etc/web".into(),
                destination: "/etc/web".into(),
                rw: false,
                propagation: "rprivate".into(),
                ..Default::default()
            },
        ];
        c.host_config.restart_policy = RestartPolicy {
            name: "always".into(),
            maximum_retry_count: 0,
        };
        c.host_config.cap_add = Some(vec!["SYS_ADMIN".into(), "NET_BIND_SERVICE".into()]);
        // PITFALL 14 (CIS Docker): `no-new-privileges:false` turns the protection off; the fix
        // must replace it, not add a second, contradicting option.
        c.host_config.security_opt = Some(vec![
            "no-new-privileges:false".into(),
            "label=disable".into(),
        ]);
    });
    let mut snap = snapshot(&root);
    let d = snap.docker.as_mut().unwrap();
    d.containers = Fact::Value(vec![c.clone()]);
    d.images = Fact::Value(vec![ImageFacts {
        inspect: Image {
            id: "sha256:abc".into(),
            config: ImageConfig {
                env: vec!["PATH=/usr/bin".into()],
                ..Default::default()
            },
            ..Default::default()
        },
        history: Fact::Value(vec![]),
    }]);
    let audit = docker_audit(
        "1.6.0",
        vec![
            ("docker.container.read_only_rootfs", fails_for(&c)),
            ("docker.container.no_new_privileges", fails_for(&c)),
            ("docker.container.capabilities", fails_for(&c)),
            ("docker.container.restart_on_failure_5", fails_for(&c)),
            ("docker.container.pids_limit", fails_for(&c)),
            ("docker.container.memory_limit", fails_for(&c)),
            ("docker.container.cpu_shares", fails_for(&c)),
            ("docker.container.healthcheck_runtime", fails_for(&c)),
            ("docker.image.non_root_user", fails_for(&c)),
        ],
    );
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let f = p.fix("docker-run:web").unwrap();
    assert_eq!(f.kind, FixKind::DockerRun);
    assert_eq!(
        f.checks,
        vec!["4.1", "5.4", "5.11", "5.12", "5.13", "5.15", "5.26", "5.27", "5.29"]
    );
    let run = &f
        .action
        .steps
        .iter()
        .find(|s| s.argv[1] == "run")
        .unwrap()
        .argv;
    let line = shell::join(run);
    assert_eq!(
        line,
        "docker run --detach --name web --user 1000:1000 --workdir /srv --env MODE=prod --env DB_PASSWORD \
--label team=payments --network appnet --publish 127.0.0.1:8080:80/tcp --publish '[::1]:8080:80/tcp' \
--mount type=volume,source=webdata,target=/data --mount type=bind,source=/etc/web,target=/etc/web,readonly \
--tmpfs /tmp:rw,noexec,nosuid,size=64m,mode=1777 --tmpfs /run:rw,noexec,nosuid,size=64m,mode=1777 \
--restart on-failure:5 --cap-drop ALL --cap-add NET_BIND_SERVICE --security-opt label=disable --security-opt no-new-privileges:true \
--memory 512m --cpu-shares 512 --pids-limit 100 --read-only \
--health-cmd 'nc -z 127.0.0.1 80 || exit 1' --health-interval 30s --health-timeout 5s --health-retries 3 \
registry.example/web:1.4 serve --port 80"
    );
    // An explicitly added default capability is kept (and said why); SYS_ADMIN is never carried
    // over and the fix says so.
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("keeps NET_BIND_SERVICE: added explicitly")),
        "{:?}",
        f.notes
    );
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("no longer adds SYS_ADMIN")),
        "{:?}",
        f.notes
    );
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("export DB_PASSWORD with the current value in the shell")),
        "{:?}",
        f.notes
    );
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("only /tmp and /run are kept writable")),
        "{:?}",
        f.notes
    );
    // The masked value never appears as a value.
    assert!(!f.command().unwrap().contains("***"));
    // The old container is kept until the new one works.
    assert_eq!(
        f.action.steps[0].argv,
        vec!["docker", "rename", "web", "web-pre-harden"]
    );
}

#[test]
fn hostile_names_and_commands_are_quoted_not_executed() {
    let root = temp_root("hostile");
    let c = container("x", |c| {
        c.config.cmd = Some(vec![
            "sh".into(),
            "-c".into(),
            "echo $(id); rm -rf / # it's".into(),
        ]);
        c.config.env = vec!["NOTE=a'b\"c`d`".into()];
    });
    let mut snap = snapshot(&root);
    snap.docker.as_mut().unwrap().containers = Fact::Value(vec![c.clone()]);
    let audit = docker_audit(
        "1.6.0",
        vec![("docker.container.read_only_rootfs", fails_for(&c))],
    );
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    let f = p.fix("docker-run:x").unwrap();
    let text = f.command().unwrap();
    let run_line = text.lines().find(|l| l.starts_with("docker run")).unwrap();
    // Splitting the shell text gives back exactly the planned words.
    let run = &f
        .action
        .steps
        .iter()
        .find(|s| s.argv[1] == "run")
        .unwrap()
        .argv;
    assert_eq!(&shell::split(run_line).unwrap(), run);
    assert!(
        run_line.ends_with("'echo $(id); rm -rf / # it'\\''s'"),
        "{run_line}"
    );
}

/// Every word of a planned command as `render::text` prints it: the lines of the fix's command
/// block, without the indentation.
fn printed_command(text: &str, fix_title: &str) -> Vec<String> {
    let start = text.find(fix_title).expect("the fix is printed");
    text[start..]
        .lines()
        .skip_while(|l| !l.contains("run after review"))
        .skip(1)
        .take_while(|l| l.starts_with("      "))
        .map(|l| l.trim_start().to_string())
        .collect()
}

#[test]
fn a_command_line_with_a_masked_secret_gets_no_run_command() {
    let root = temp_root("masked-cmd");
    // As collected: the masker replaced the secret (and, in `b`, the `;` that followed it).
    let a = container("uxd-probe", |c| {
        c.config.cmd = Some(vec!["sh".into(), "-c".into(), "echo --password=***".into()]);
    });
    let b = container("uxd-probe-two", |c| {
        c.config.cmd = Some(vec![
            "sh".into(),
            "-c".into(),
            "echo --password=*** sleep 5".into(),
        ]);
    });
    // An older snapshot, or a secret split across entrypoint and command (`--token` ends the
    // entrypoint, its value starts the command): the printed command would mask it.
    let d = container("tok", |c| {
        c.config.entrypoint = Some(vec!["/bin/app".into(), "--token".into()]);
        c.config.cmd = Some(vec!["abc123".into()]);
    });
    // The compose file holds the real command: that fix is still planned.
    put(
        &root,
        "/srv/p/compose.yaml",
        "services:\n  probe:\n    image: bb\n    command: [\"sh\", \"-c\", \"echo --password=$$PW\"]\n",
    );
    let e = container("proj-probe-1", |c| {
        c.config.cmd = Some(vec!["sh".into(), "-c".into(), "echo --password=***".into()]);
        c.config.labels = BTreeMap::from([
            (
                "com.docker.compose.project.config_files".into(),
                "/srv/p/compose.yaml".into(),
            ),
            ("com.docker.compose.service".into(), "probe".into()),
        ]);
    });
    let mut all = vec![a, b, d, e];
    for c in &mut all {
        // Short IDs of their own (the helper derives one from the name's length).
        c.inspect.id = format!("{:0<64}", c.name());
    }
    let mut snap = snapshot(&root);
    snap.docker.as_mut().unwrap().containers = Fact::Value(all.clone());
    let ro = CheckResult::from_objects(
        all.iter()
            .map(|c| ObjectResult::new("container", c.name(), Status::Fail).id(c.short_id()))
            .collect(),
        "",
    );
    let audit = docker_audit("1.6.0", vec![("docker.container.read_only_rootfs", ro)]);
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    for name in ["uxd-probe", "uxd-probe-two", "tok", "proj-probe-1"] {
        assert!(
            p.fix(&format!("docker-run:{name}")).is_none(),
            "{name}: {:#?}",
            p.fix(&format!("docker-run:{name}"))
                .and_then(|f| f.command())
        );
    }
    let reason = |name: &str| {
        p.unfixed
            .iter()
            .find(|u| u.object.as_deref() == Some(name))
            .map(|u| u.reason.clone())
            .unwrap_or_else(|| panic!("{name} not unfixed: {:#?}", p.unfixed))
    };
    let r = reason("uxd-probe");
    assert!(
        r.contains("container uxd-probe")
            && r.contains(
                "word 3 of the command line it runs (Config.Cmd[2] = \"echo --password=***\")"
            )
            && r.contains("root file system mounted read-only"),
        "{r}"
    );
    assert!(reason("uxd-probe-two").contains("Config.Cmd[2] = \"echo --password=*** sleep 5\""));
    let r = reason("tok");
    assert!(
        r.contains("word 3 of the command line it runs (Config.Cmd[0] = \"***\")"),
        "{r}"
    );
    assert!(!r.contains("abc123"), "{r}");
    assert!(p.fix("compose:/srv/p/compose.yaml#probe").is_some());
    // Nothing printed or serialized carries a rebuilt command or the real secret.
    let text = bulkhead_harden::render::text(&p, true);
    let json = bulkhead_harden::render::json(&p, "test");
    for out in [&text, &json] {
        assert!(!out.contains("docker create --name uxd-probe"), "{out}");
        assert!(!out.contains("abc123"), "{out}");
    }
}

#[test]
fn masked_environment_values_come_from_the_callers_environment() {
    let root = temp_root("masked-env");
    let c = container("api", |c| {
        c.image = "sha256:img".into();
        c.config.env = vec![
            "MODE=prod".into(),
            "DB_PASSWORD=***".into(),
            // Masked inside the value: the name alone says nothing secret.
            "DATABASE_URL=postgres://app:***@db/x".into(),
            // Not masked when collected (an older snapshot), but masked when printed.
            "CACHE_URL=redis://cache:hunter2@redis:6379/0".into(),
            // Masked in the image and in the container: equal text, maybe different values.
            "API_TOKEN=***".into(),
            "LANG=C.UTF-8".into(),
        ];
    });
    let mut snap = snapshot(&root);
    let d = snap.docker.as_mut().unwrap();
    d.containers = Fact::Value(vec![c.clone()]);
    d.images = Fact::Value(vec![ImageFacts {
        inspect: Image {
            id: "sha256:img".into(),
            config: ImageConfig {
                env: vec!["API_TOKEN=***".into(), "LANG=C.UTF-8".into()],
                ..Default::default()
            },
            ..Default::default()
        },
        history: Fact::Value(vec![]),
    }]);
    let audit = docker_audit(
        "1.6.0",
        vec![("docker.container.read_only_rootfs", fails_for(&c))],
    );
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    let f = p.fix("docker-run:api").expect("a run command");
    let run = &f
        .action
        .steps
        .iter()
        .find(|s| s.argv[1] == "run")
        .unwrap()
        .argv;
    let envs: Vec<&str> = run
        .windows(2)
        .filter(|w| w[0] == "--env")
        .map(|w| w[1].as_str())
        .collect();
    assert_eq!(
        envs,
        vec![
            "MODE=prod",
            "DB_PASSWORD",
            "DATABASE_URL",
            "CACHE_URL",
            "API_TOKEN"
        ]
    );
    let note = f
        .notes
        .iter()
        .find(|n| n.starts_with("secret values are not copied"))
        .expect("the note");
    for name in ["DB_PASSWORD", "DATABASE_URL", "CACHE_URL", "API_TOKEN"] {
        assert!(note.contains(name), "{note}");
    }
    let text = bulkhead_harden::render::text(&p, true);
    let json = bulkhead_harden::render::json(&p, "test");
    for out in [&text, &json] {
        assert!(!out.contains("***@"), "{out}");
        assert!(!out.contains("hunter2"), "{out}");
    }
}

#[test]
fn printed_commands_split_back_into_the_json_steps() {
    let root = temp_root("printed");
    let c = container("q", |c| {
        c.config.cmd = Some(vec![
            "sh".into(),
            "-c".into(),
            "echo 'a; b' \"$HOME\"; sleep 5 # done".into(),
        ]);
        // Masked when printed only: the text and the JSON must not differ on it.
        c.config.env = vec![
            "DB_PASSWORD=***".into(),
            "CACHE_URL=redis://cache:hunter2@redis/0".into(),
        ];
    });
    let mut snap = snapshot(&root);
    snap.docker.as_mut().unwrap().containers = Fact::Value(vec![c.clone()]);
    let audit = docker_audit(
        "1.6.0",
        vec![("docker.container.read_only_rootfs", fails_for(&c))],
    );
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    let f = p.fix("docker-run:q").unwrap();
    let text = bulkhead_harden::render::text(&p, true);
    let printed = printed_command(&text, &f.title);
    let json: serde_json::Value =
        serde_json::from_str(&bulkhead_harden::render::json(&p, "test")).unwrap();
    let jf = &json["fixes"][0];
    // The text shows exactly the JSON command, line for line.
    assert_eq!(
        printed.join("\n"),
        jf["command"].as_str().unwrap(),
        "{text}"
    );
    // Each command line splits back into the JSON step's words; each comment stays a comment.
    let steps = jf["steps"].as_array().unwrap();
    let commands: Vec<&String> = printed.iter().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(commands.len(), steps.len());
    for (line, step) in commands.iter().zip(steps) {
        let words: Vec<String> = serde_json::from_value(step["argv"].clone()).unwrap();
        assert_eq!(shell::split(line).unwrap(), words, "{line}");
    }
    assert!(
        commands[2].ends_with(r#"sh -c 'echo '\''a; b'\'' "$HOME"; sleep 5 # done'"#),
        "{}",
        commands[2]
    );
}

#[test]
fn compose_file_and_its_dockerfile_are_patched() {
    let root = temp_root("compose");
    let compose = "services:\n  api:\n    build:\n      context: ./api\n      target: runtime\n    security_opt:\n      - no-new-privileges:false   # legacy\n    ports:\n      - \"8443:8443\"\n";
    put(&root, "/srv/shop/compose.yaml", compose);
    let dockerfile = "FROM golang:1.22 AS build\nUSER nobody\nRUN go build -o /api .\n\nFROM debian:12 AS runtime\nCOPY --from=build /api /api\nEXPOSE 8443\nENTRYPOINT [\"/api\"]\n\nFROM runtime AS debug\nUSER root\n";
    put(&root, "/srv/shop/api/Dockerfile", dockerfile);
    let c = container("shop-api-1", |c| {
        c.config.labels = BTreeMap::from([
            (
                "com.docker.compose.project.config_files".into(),
                "/srv/shop/compose.yaml".into(),
            ),
            (
                "com.docker.compose.project.working_dir".into(),
                "/srv/shop".into(),
            ),
            ("com.docker.compose.service".into(), "api".into()),
        ]);
        c.host_config.security_opt = Some(vec!["no-new-privileges:false".into()]);
    });
    let img = ObjectResult::new("image", "shop-api:latest", Status::Fail);
    let mut snap = snapshot(&root);
    snap.docker.as_mut().unwrap().containers = Fact::Value(vec![c.clone()]);
    let audit = docker_audit(
        "1.2.0",
        vec![
            ("docker.container.no_new_privileges", fails_for(&c)),
            ("docker.image.non_root_user", fails_for(&c)),
            (
                "docker.image.healthcheck",
                CheckResult::from_objects(vec![img], ""),
            ),
        ],
    );
    let p = plan(&snap, &[audit], &request(&root, &["4.1", "4.6", "5.25"])).unwrap();
    let cf = p
        .fix("compose:/srv/shop/compose.yaml#api")
        .expect("compose fix");
    assert_eq!(cf.checks, vec!["4.1", "5.25"]);
    assert_eq!(
        cf.action.edits[0].after,
        "services:\n  api:\n    build:\n      context: ./api\n      target: runtime\n    security_opt:\n      - no-new-privileges:true   # legacy\n    ports:\n      - \"8443:8443\"\n    user: \"1000:1000\"\n"
    );
    // The Dockerfile of the build target (`runtime`, not the last stage `debug`), with USER and
    // HEALTHCHECK before its runtime metadata; the builder's USER does not count.
    let df = p
        .fix("dockerfile:/srv/shop/api/Dockerfile")
        .expect("dockerfile fix");
    assert_eq!(
        df.checks,
        vec!["4.1"],
        "4.6's image is not tied to this Dockerfile"
    );
    assert_eq!(
        df.action.edits[0].after,
        dockerfile.replace("EXPOSE 8443\n", "USER 1000:1000\nEXPOSE 8443\n")
    );
    // 4.6 names an image no Dockerfile is known for: reported with what to do.
    let u = p
        .unfixed
        .iter()
        .find(|u| u.check == "4.6")
        .unwrap_or_else(|| {
            panic!(
                "{:#?} {:#?}",
                p.unfixed,
                p.fixes
                    .iter()
                    .map(|f| (&f.id, &f.checks))
                    .collect::<Vec<_>>()
            )
        });
    assert!(u.reason.contains("--dockerfile"), "{}", u.reason);
    // A Dockerfile named explicitly gets the HEALTHCHECK (a TCP probe of its exposed port).
    let tools = "FROM alpine:3.20\nRUN apk add --no-cache socat\nEXPOSE 9000\nCMD [\"serve\"]\n";
    put(&root, "/srv/tools/Dockerfile", tools);
    let mut r = request(&root, &["4.6"]);
    r.dockerfiles = vec!["/srv/tools/Dockerfile".into()];
    let audit = docker_audit(
        "1.2.0",
        vec![(
            "docker.image.healthcheck",
            CheckResult::from_objects(
                vec![ObjectResult::new("image", "tools:1", Status::Fail)],
                "",
            ),
        )],
    );
    let p = plan(&snap, &[audit], &r).unwrap();
    let df = p.fix("dockerfile:/srv/tools/Dockerfile").unwrap();
    assert_eq!(
        df.action.edits[0].after,
        tools.replace(
            "EXPOSE 9000\n",
            "HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD nc -z 127.0.0.1 9000 || exit 1\nEXPOSE 9000\n"
        )
    );
    assert!(df
        .notes
        .iter()
        .any(|n| n.contains("application-level check")));
}

#[test]
fn threat_selection_plans_only_its_controls() {
    let root = temp_root("threat");
    let c = container("app", |_| {});
    let mut snap = snapshot(&root);
    snap.docker.as_mut().unwrap().containers = Fact::Value(vec![c.clone()]);
    let audit = docker_audit(
        "1.6.0",
        vec![
            ("docker.image.non_root_user", fails_for(&c)),
            ("docker.container.memory_limit", fails_for(&c)),
            ("docker.daemon.live_restore", fail()),
        ],
    );
    // The real threat library: DKR-E01 (running as root) is mitigated by 4.1, not by a memory
    // limit or live restore.
    let r = PlanRequest {
        root: Some(root.clone()),
        threats: vec!["DKR-E01".into()],
        ..Default::default()
    };
    let p = plan(&snap, std::slice::from_ref(&audit), &r).unwrap();
    let controls = p.fixed_controls();
    assert!(
        controls.contains("docker.image.non_root_user"),
        "{controls:?}"
    );
    assert!(
        !controls.contains("docker.daemon.live_restore"),
        "{controls:?}"
    );
    for f in &p.fixes {
        assert!(
            f.threats.iter().any(|t| t == "DKR-E01"),
            "{}: {:?}",
            f.id,
            f.threats
        );
    }
    let e = plan(
        &snap,
        &[audit],
        &PlanRequest {
            threats: vec!["DKR-X99".into()],
            ..r
        },
    )
    .unwrap_err();
    assert!(e.contains("no such threat"), "{e}");
}

#[test]
fn fix_values_that_close_nothing_are_refused() {
    let root = temp_root("values");
    let c = container("app", |_| {});
    let mut snap = snapshot(&root);
    snap.docker.as_mut().unwrap().containers = Fact::Value(vec![c.clone()]);
    let audit = docker_audit(
        "1.6.0",
        vec![
            ("docker.image.non_root_user", fails_for(&c)),
            ("docker.container.memory_limit", fails_for(&c)),
            ("docker.container.cpu_shares", fails_for(&c)),
            ("docker.container.pids_limit", fails_for(&c)),
        ],
    );
    let with = |edit: fn(&mut bulkhead_harden::FixOptions)| {
        let mut r = request(&root, &[]);
        edit(&mut r.options);
        plan(&snap, std::slice::from_ref(&audit), &r)
    };
    let refused = [
        (with(|o| o.container_user = "0:0".into()), "--user \"0:0\""),
        (
            with(|o| o.container_user = "root".into()),
            "--user \"root\"",
        ),
        (with(|o| o.memory = "0".into()), "--memory \"0\""),
        (with(|o| o.memory = "banana".into()), "--memory \"banana\""),
        (with(|o| o.cpu_shares = 0), "--cpu-shares \"0\""),
        (with(|o| o.pids_limit = -1), "--pids-limit \"-1\""),
    ];
    for (result, named) in refused {
        match result {
            Err(e) => assert!(e.starts_with(named), "{named}: {e}"),
            Ok(p) => panic!(
                "{named} planned: {:?}",
                p.fixes
                    .iter()
                    .map(|f| (&f.id, &f.changes))
                    .collect::<Vec<_>>()
            ),
        }
    }
    // The defaults plan all four.
    let p = with(|_| {}).unwrap();
    assert_eq!(
        p.fix("docker-run:app").unwrap().checks,
        vec!["4.1", "5.11", "5.12", "5.29"]
    );
}

/// Two services of one compose file both fail: each gets its own compose fix, the second planned
/// on the first's result, so `harden --apply` writes both into the file (it refuses two edits of
/// one file that do not build on each other, which left a typical project unfixable).
#[test]
fn services_of_one_compose_file_are_patched_together() {
    let root = temp_root("compose-two");
    let compose = "# shop\nservices:\n  api:\n    image: shop/api:1\n  worker:\n    image: shop/worker:1\n    read_only: false\n";
    let path = put(&root, "/srv/shop/compose.yaml", compose);
    let from_compose = |name: &str, service: &str| {
        container(name, |c| {
            c.config.labels = BTreeMap::from([
                (
                    "com.docker.compose.project.config_files".into(),
                    "/srv/shop/compose.yaml".into(),
                ),
                (
                    "com.docker.compose.project.working_dir".into(),
                    "/srv/shop".into(),
                ),
                ("com.docker.compose.service".into(), service.into()),
            ]);
        })
    };
    let mut api = from_compose("shop-api-1", "api");
    api.inspect.id = format!("{:a>64}", 1);
    let mut worker = from_compose("shop-worker-1", "worker");
    worker.inspect.id = format!("{:b>64}", 2);
    let mut snap = snapshot(&root);
    snap.docker.as_mut().unwrap().containers = Fact::Value(vec![api.clone(), worker.clone()]);
    let both = CheckResult::from_objects(
        vec![
            ObjectResult::new("container", api.name(), Status::Fail).id(api.short_id()),
            ObjectResult::new("container", worker.name(), Status::Fail).id(worker.short_id()),
        ],
        "",
    );
    let audit = docker_audit(
        "1.2.0",
        vec![
            ("docker.container.read_only_rootfs", both.clone()),
            ("docker.container.no_new_privileges", both),
        ],
    );
    let p = plan(&snap, &[audit], &request(&root, &["5.12", "5.25"])).unwrap();
    let api_fix = p
        .fix("compose:/srv/shop/compose.yaml#api")
        .expect("api fix");
    let worker_fix = p
        .fix("compose:/srv/shop/compose.yaml#worker")
        .expect("worker fix");
    // Each fix shows only its own service's change.
    let (first, second) = if p.fixes.iter().position(|f| f.id == api_fix.id)
        < p.fixes.iter().position(|f| f.id == worker_fix.id)
    {
        (api_fix, worker_fix)
    } else {
        (worker_fix, api_fix)
    };
    assert_eq!(first.action.edits[0].before.as_deref(), Some(compose));
    assert_eq!(
        second.action.edits[0].before.as_deref(),
        Some(first.action.edits[0].after.as_str())
    );
    let state = root.join("state");
    bulkhead_harden::apply::apply(
        &p,
        &bulkhead_harden::apply::ApplyOptions {
            root: root.to_path_buf(),
            include_review: true,
            state_dir: Some(state),
        },
    )
    .expect("both compose fixes apply");
    let written = std::fs::read_to_string(&path).unwrap();
    let expected = "# shop\nservices:\n  api:\n    image: shop/api:1\n    read_only: true\n    tmpfs:\n      - /tmp:rw,noexec,nosuid,size=64m,mode=1777\n      - /run:rw,noexec,nosuid,size=64m,mode=1777\n    security_opt:\n      - no-new-privileges:true\n  worker:\n    image: shop/worker:1\n    read_only: true\n    tmpfs:\n      - /tmp:rw,noexec,nosuid,size=64m,mode=1777\n      - /run:rw,noexec,nosuid,size=64m,mode=1777\n    security_opt:\n      - no-new-privileges:true\n";
    assert_eq!(written, expected);
}

/// The read-only fix's note says what the container wrote: a container that wrote nothing gets
/// a tmpfs on /tmp only, and the note must not claim it wrote there.
#[test]
fn read_only_note_tells_written_directories_from_the_default_tmp() {
    use bulkhead_harden::{ChangeKind, ChangedPath};
    let root = temp_root("tmpfs-note");
    let c = container("quiet", |_| {});
    let mut snap = snapshot(&root);
    snap.docker.as_mut().unwrap().containers = Fact::Value(vec![c.clone()]);
    let audit = docker_audit(
        "1.6.0",
        vec![("docker.container.read_only_rootfs", fails_for(&c))],
    );
    let with_writes = |writes: Vec<ChangedPath>| {
        let mut r = request(&root, &[]);
        r.container_writes = BTreeMap::from([(c.inspect.id.clone(), writes)]);
        let p = plan(&snap, std::slice::from_ref(&audit), &r).unwrap();
        let f = p.fix("docker-run:quiet").unwrap().clone();
        (f.command().unwrap(), f.notes)
    };

    let (cmd, notes) = with_writes(vec![]);
    assert!(cmd.contains("--tmpfs /tmp:"), "{cmd}");
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("the container wrote nothing outside its volumes; only /tmp")),
        "{notes:?}"
    );
    assert!(
        !notes
            .iter()
            .any(|n| n.contains("directories the container wrote")),
        "{notes:?}"
    );

    let written = |path: &str, kind| ChangedPath {
        path: path.into(),
        kind,
    };
    let (cmd, notes) = with_writes(vec![
        written("/var", ChangeKind::Modified),
        written("/var/log", ChangeKind::Modified),
        written("/var/log/app.log", ChangeKind::Added),
    ]);
    assert!(cmd.contains("--tmpfs /var/log:"), "{cmd}");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("the directories the container wrote, and /tmp (/tmp, /var/log)")),
        "{notes:?}"
    );
}

/// Container fixes are listed by container name, whatever their IDs: a plan of many containers
/// is read by looking a name up.
#[test]
fn container_fixes_come_in_name_order() {
    let root = temp_root("name-order");
    let named =
        |name: &str, id: char| container(name, |c| c.id = std::iter::repeat_n(id, 64).collect());
    let containers = vec![named("web", '1'), named("api", 'f'), named("cache", '7')];
    let mut snap = snapshot(&root);
    snap.docker.as_mut().unwrap().containers = Fact::Value(containers.clone());
    let audit = docker_audit(
        "1.6.0",
        vec![(
            "docker.container.read_only_rootfs",
            fail_containers(&containers),
        )],
    );
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    let order: Vec<&str> = p.fixes.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        order,
        ["docker-run:api", "docker-run:cache", "docker-run:web"]
    );
}
