//! Collection against a real dockerd (the testkit's private daemon, never the user's), with
//! containers made with every flag a section-5 check distinguishes. The facts collected are
//! asserted first, then the verdict of every section-5 check for every container, then that a
//! snapshot written to JSON and read back evaluates to identical results.
//!
//! One daemon and one set of containers serve every test of this binary (starting dockerd and
//! the containers takes seconds); the lab is built on first use.

use bulkhead_checks::{catalog, AuditOptions, Context, Selection, Status};
use bulkhead_collect::{collect, CollectOptions, ContainerFilter, Want};
use bulkhead_facts::docker::{ContainerFacts, DockerFacts, VersionSource, SELF_LABEL};
use bulkhead_facts::host::{FileFact, FileKind};
use bulkhead_facts::{Fact, Snapshot};
use bulkhead_testkit::{ContainerSpec, ExtraFile, TestDockerd};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

/// Every container of the lab, by name.
const CONTAINERS: &[&str] = &[
    "hardened",
    "defaults",
    "nnp-false",
    "root-user",
    "hostns",
    "sensitive",
    "ports",
    "privileged",
    "healthy",
    "unhealthy",
    "seccomp-off",
    "shared-prop",
    "nil-app",
    "sshd",
    "device",
    "exited",
    "self",
];

struct Lab {
    d: &'static TestDockerd,
    /// Host ports used by the `ports` and `hardened` containers.
    any_v4: u16,
    any_v6: u16,
    privileged_port: u16,
    loopback: u16,
    /// Running containers only (the default selection).
    running: Snapshot,
    /// `--all-containers`.
    all: Snapshot,
}

static LAB: OnceLock<Result<Option<Lab>, String>> = OnceLock::new();

/// The lab, built once. A failure to build it is kept and reported by every test, instead of
/// each test retrying into the leftovers of the first attempt.
fn lab() -> Option<&'static Lab> {
    let built = LAB.get_or_init(|| {
        std::panic::catch_unwind(build_lab).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "building the lab panicked".into())
        })
    });
    match built {
        Ok(lab) => lab.as_ref(),
        Err(e) => panic!("the lab could not be built: {e}"),
    }
}

fn options(d: &TestDockerd, filter: ContainerFilter) -> CollectOptions {
    CollectOptions {
        docker: Want::Required,
        docker_host: Some(d.docker_host()),
        containers: filter,
        kubernetes: Want::Skip,
        ..Default::default()
    }
}

/// A TCP port nothing listens on (IPv4 and IPv6), from `range`.
fn free_port(range: std::ops::Range<u16>, taken: &[u16]) -> u16 {
    range
        .filter(|p| !taken.contains(p))
        .find(|p| {
            std::net::TcpListener::bind(("0.0.0.0", *p)).is_ok()
                && std::net::TcpListener::bind(("::", *p)).is_ok()
        })
        .expect("a free port")
}

fn build_lab() -> Option<Lab> {
    let d = TestDockerd::shared()?;
    let net = d.network();
    let any_v4 = free_port(20000..30000, &[]);
    let any_v6 = free_port(20000..30000, &[any_v4]);
    let loopback = free_port(20000..30000, &[any_v4, any_v6]);
    let privileged_port = free_port(900..1024, &[]);
    let socket = d.socket_path().display().to_string();
    let containerd = d.containerd_socket().display().to_string();
    let shared = d.shared_mount_dir().display().to_string();
    d.import_image_with_files(
        "bulkhead-test/sshd:1",
        &[],
        &[ExtraFile::busybox_copy("/usr/sbin/sshd")],
    );

    d.run(
        "hardened",
        &ContainerSpec::new()
            .network(&net)
            .read_only()
            .user("1000")
            .security_opt("no-new-privileges")
            .cap_drop("ALL")
            .memory(64 * 1024 * 1024)
            .cpu_shares(512)
            .pids_limit(100)
            .restart("on-failure", 3)
            .health_cmd("true", 1, 1)
            .publish("127.0.0.1", loopback, 80),
    );
    d.run("defaults", &ContainerSpec::new());
    d.run(
        "nnp-false",
        &ContainerSpec::new()
            .security_opt("no-new-privileges:false")
            .user("0:0")
            .cap_add("NET_ADMIN")
            .restart("always", 0),
    );
    d.run(
        "root-user",
        &ContainerSpec::new().user("root").restart("on-failure", 10),
    );
    d.run(
        "hostns",
        &ContainerSpec::new()
            .network("host")
            .pid_mode("host")
            .ipc_mode("host")
            .uts_mode("host")
            .userns_mode("host"),
    );
    d.run(
        "sensitive",
        &ContainerSpec::new()
            .bind("/etc/ssl:/etc/ssl:ro")
            .bind(&format!("{socket}:/var/run/docker.sock"))
            .bind(&format!("{containerd}:/run/containerd/containerd.sock")),
    );
    d.run(
        "ports",
        &ContainerSpec::new()
            .network(&net)
            .publish("0.0.0.0", any_v4, 80)
            .publish("::", any_v6, 81)
            .publish("0.0.0.0", privileged_port, 82),
    );
    // --privileged cannot start on this machine (runc cannot apply every capability here):
    // created only, as `docker create --privileged` records it.
    d.create("privileged", &ContainerSpec::new().privileged());
    let healthy = d.run("healthy", &ContainerSpec::new().health_cmd("true", 1, 1));
    let unhealthy = d.run("unhealthy", &ContainerSpec::new().health_cmd("false", 1, 1));
    d.run(
        "seccomp-off",
        &ContainerSpec::new().security_opt("seccomp=unconfined"),
    );
    d.run(
        "shared-prop",
        &ContainerSpec::new().bind_mount(&shared, "/shared", Some("shared")),
    );
    d.run("nil-app", &ContainerSpec::new());
    d.run(
        "sshd",
        &ContainerSpec::new().image("bulkhead-test/sshd:1").cmd(&[
            "sh",
            "-c",
            "exec -a sleep /usr/sbin/sshd 100000",
        ]),
    );
    d.run(
        "device",
        &ContainerSpec::new().device("/dev/zero", "/dev/testzero", "rwm"),
    );
    let exited = d.run("exited", &ContainerSpec::new().cmd(&["true"]));
    d.run("self", &ContainerSpec::new().label(SELF_LABEL, "true"));

    d.wait_health(&healthy, "healthy", Duration::from_secs(60));
    d.wait_health(&unhealthy, "unhealthy", Duration::from_secs(60));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while d.inspect(&exited)["State"]["Status"] != "exited" {
        assert!(std::time::Instant::now() < deadline, "exited never exited");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let the hardened container's first probe pass too.
    let hardened = d.inspect("hardened")["Id"].as_str().unwrap().to_string();
    d.wait_health(&hardened, "healthy", Duration::from_secs(60));

    let running = collect(&options(d, ContainerFilter::default())).expect("collect");
    let all = collect(&options(
        d,
        ContainerFilter {
            all_states: true,
            ..Default::default()
        },
    ))
    .expect("collect --all-containers");
    Some(Lab {
        d,
        any_v4,
        any_v6,
        privileged_port,
        loopback,
        running,
        all,
    })
}

fn docker(s: &Snapshot) -> &DockerFacts {
    s.docker.as_ref().expect("docker facts")
}

fn container<'a>(s: &'a Snapshot, name: &str) -> &'a ContainerFacts {
    docker(s)
        .containers
        .value()
        .expect("containers listed")
        .iter()
        .find(|c| c.name() == name)
        .unwrap_or_else(|| panic!("container {name} collected"))
}

fn names(s: &Snapshot) -> Vec<String> {
    docker(s)
        .containers
        .value()
        .unwrap()
        .iter()
        .map(|c| c.name().to_string())
        .collect()
}

#[test]
fn endpoint_daemon_process_and_configuration() {
    let Some(lab) = lab() else { return };
    let d = docker(&lab.running);
    assert_eq!(d.endpoint.host, lab.d.docker_host());
    assert_eq!(d.endpoint.transport, "unix");
    assert_eq!(d.endpoint.source, "flag");
    assert!(d.endpoint.local);
    assert_eq!(
        d.endpoint.api_version,
        d.version.value().unwrap().api_version,
        "the client speaks the daemon's API version"
    );
    // PITFALL 4: the dockerd serving this socket, by executable name and socket, even when other
    // dockerd processes (other test daemons, the system's) run on the machine.
    let p = d
        .daemon
        .process
        .value()
        .unwrap()
        .as_ref()
        .expect("dockerd found");
    assert_eq!(p.pid, lab.d.pid());
    assert!(p.is_program("dockerd"));
    assert!(!d.daemon.process_reason.is_empty());
    // PITFALL 6: paths come from the running daemon's flags, not the defaults.
    assert_eq!(
        d.daemon.config_path,
        lab.d.config_file().display().to_string()
    );
    assert_eq!(d.daemon.config, Fact::Value(Some(serde_json::json!({}))));
    let paths = &d.daemon.paths;
    assert_eq!(
        paths.sockets,
        vec![lab.d.socket_path().display().to_string()]
    );
    assert_eq!(paths.data_root, lab.d.data_root().display().to_string());
    assert_eq!(paths.exec_root, lab.d.exec_root().display().to_string());
    assert_eq!(
        paths.containerd_socket.as_deref(),
        Some(lab.d.containerd_socket().display().to_string().as_str()),
        "dockerd's own containerd, under its exec root"
    );
    for unit in ["docker.service", "docker.socket", "containerd.service"] {
        assert!(paths.units.contains_key(unit), "{unit} looked for");
    }
    for bin in ["dockerd", "containerd", "runc"] {
        assert!(
            paths.binaries.get(bin).is_some_and(|p| p.is_some()),
            "{bin} found: {:?}",
            paths.binaries
        );
    }
    assert!(!d.daemon.rootless);
    let host = &lab.running.host;
    let sock = host
        .file(&paths.sockets[0])
        .and_then(FileFact::stat)
        .expect("socket stat");
    assert_eq!(sock.kind, FileKind::Socket);
    assert_eq!(sock.uid, 0);
    let json = host
        .file(&d.daemon.config_path)
        .and_then(FileFact::stat)
        .expect("daemon.json stat");
    assert_eq!(json.kind, FileKind::File);
    assert!(host
        .file(&paths.data_root)
        .and_then(FileFact::stat)
        .is_some());
    assert!(matches!(
        host.file("/etc/sysconfig/docker"),
        Some(FileFact::Missing)
    ));
    let info = d.info.value().unwrap();
    assert_eq!(info.docker_root_dir, paths.data_root);
    assert_eq!(d.swarm.value().unwrap().state, "inactive");
}

#[test]
fn selection_running_by_default_every_skip_with_reason() {
    let Some(lab) = lab() else { return };
    let running = names(&lab.running);
    // PITFALL 18: a name containing "nil" is audited like any other.
    assert!(running.contains(&"nil-app".to_string()), "{running:?}");
    for absent in ["privileged", "exited", "self"] {
        assert!(
            !running.contains(&absent.to_string()),
            "{absent} is not audited by default"
        );
    }
    let skipped: BTreeMap<String, String> = docker(&lab.running)
        .selection
        .skipped
        .iter()
        .map(|s| (s.name.clone(), s.reason.clone()))
        .collect();
    assert!(
        skipped["privileged"].contains("state created"),
        "{skipped:?}"
    );
    assert!(skipped["exited"].contains("state exited"), "{skipped:?}");
    assert!(
        skipped["self"].contains("bulkhead's own container"),
        "{skipped:?}"
    );
    let all = names(&lab.all);
    let mut expected: Vec<String> = CONTAINERS
        .iter()
        .filter(|n| **n != "self")
        .map(|n| n.to_string())
        .collect();
    expected.sort();
    assert_eq!(
        all, expected,
        "--all-containers adds created and exited, never bulkhead itself"
    );
    assert!(
        all.iter().all(|n| !n.starts_with('/')),
        "names without the leading slash"
    );
}

#[test]
fn selection_by_name_and_label() {
    let Some(lab) = lab() else { return };
    let s = collect(&options(
        lab.d,
        ContainerFilter {
            include: vec!["^(hardened|defaults|nil-app)$".into()],
            exclude: vec!["^defaults$".into()],
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(names(&s), vec!["hardened", "nil-app"]);
    let reasons: BTreeMap<String, String> = docker(&s)
        .selection
        .skipped
        .iter()
        .map(|s| (s.name.clone(), s.reason.clone()))
        .collect();
    assert_eq!(
        reasons["defaults"],
        "name matches excluded pattern ^defaults$"
    );
    assert!(reasons["sshd"].starts_with("name matches no --include"));
    let s = collect(&options(
        lab.d,
        ContainerFilter {
            labels: vec![SELF_LABEL.into()],
            ..Default::default()
        },
    ))
    .unwrap();
    assert!(
        names(&s).is_empty(),
        "bulkhead's own container is never audited, whatever the filter"
    );
}

#[test]
fn container_inspect_facts() {
    let Some(lab) = lab() else { return };
    let s = &lab.all;
    let hc = |n: &str| &container(s, n).inspect.host_config;
    assert!(hc("hardened").readonly_rootfs && !hc("defaults").readonly_rootfs);
    assert_eq!(container(s, "hardened").inspect.config.user, "1000");
    assert_eq!(container(s, "nnp-false").inspect.config.user, "0:0");
    assert_eq!(container(s, "root-user").inspect.config.user, "root");
    assert_eq!(
        hc("hardened").security_opt,
        Some(vec!["no-new-privileges".to_string()])
    );
    assert_eq!(
        hc("nnp-false").security_opt,
        Some(vec!["no-new-privileges:false".to_string()])
    );
    assert_eq!(hc("hardened").cap_drop, Some(vec!["ALL".to_string()]));
    assert_eq!(hc("nnp-false").cap_add, Some(vec!["NET_ADMIN".to_string()]));
    assert_eq!(
        (
            hc("hostns").network_mode.as_str(),
            hc("hostns").pid_mode.as_str()
        ),
        ("host", "host")
    );
    assert_eq!(
        (
            hc("hostns").ipc_mode.as_str(),
            hc("hostns").uts_mode.as_str(),
            hc("hostns").userns_mode.as_str()
        ),
        ("host", "host", "host")
    );
    assert!(hc("privileged").privileged);
    assert_eq!(container(s, "privileged").inspect.state.status, "created");
    assert_eq!(hc("hardened").memory, 64 * 1024 * 1024);
    assert_eq!(hc("hardened").cpu_shares, 512);
    assert_eq!(hc("hardened").pids_limit, Some(100));
    assert_eq!(
        (
            hc("hardened").restart_policy.name.as_str(),
            hc("hardened").restart_policy.maximum_retry_count
        ),
        ("on-failure", 3)
    );
    assert_eq!(hc("nnp-false").restart_policy.name, "always");
    assert_eq!(hc("root-user").restart_policy.maximum_retry_count, 10);
    assert_eq!(
        hc("seccomp-off").security_opt,
        Some(vec!["seccomp=unconfined".to_string()])
    );
    let health = |n: &str| {
        container(s, n)
            .inspect
            .state
            .health
            .as_ref()
            .map(|h| h.status.clone())
    };
    assert_eq!(health("healthy").as_deref(), Some("healthy"));
    assert_eq!(health("unhealthy").as_deref(), Some("unhealthy"));
    assert_eq!(health("defaults"), None);
    let mounts = &container(s, "sensitive").inspect.mounts;
    let sources: Vec<&str> = mounts.iter().map(|m| m.source.as_str()).collect();
    assert!(sources.contains(&"/etc/ssl"), "{sources:?}");
    assert!(sources.contains(&lab.d.socket_path().to_str().unwrap()));
    assert!(sources.contains(&lab.d.containerd_socket().to_str().unwrap()));
    // dockerd lists mounts from a map, in an order that changes between inspects; the snapshot
    // keeps them sorted, so two collections of an unchanged container are the same.
    assert!(sources.windows(2).all(|w| w[0] <= w[1]), "{sources:?}");
    let prop = &container(s, "shared-prop").inspect.mounts[0];
    assert_eq!(prop.propagation, "shared");
    let devices = hc("device").devices.clone().unwrap_or_default();
    assert_eq!(devices[0].path_on_host, "/dev/zero");
}

#[test]
fn published_ports_ipv4_ipv6_and_loopback() {
    let Some(lab) = lab() else { return };
    let ports = container(&lab.running, "ports")
        .inspect
        .network_settings
        .ports
        .clone()
        .expect("ports");
    let binding = |k: &str| {
        let b = ports[k].as_ref().expect("published")[0].clone();
        (b.host_ip, b.host_port)
    };
    assert_eq!(
        binding("80/tcp"),
        ("0.0.0.0".into(), lab.any_v4.to_string())
    );
    // PITFALL 13: an IPv6 binding is collected as such.
    assert_eq!(binding("81/tcp"), ("::".into(), lab.any_v6.to_string()));
    assert_eq!(
        binding("82/tcp"),
        ("0.0.0.0".into(), lab.privileged_port.to_string())
    );
    let hardened = container(&lab.running, "hardened")
        .inspect
        .network_settings
        .ports
        .clone()
        .unwrap();
    assert_eq!(hardened["80/tcp"].as_ref().unwrap()[0].host_ip, "127.0.0.1");
    assert_eq!(
        hardened["80/tcp"].as_ref().unwrap()[0].host_port,
        lab.loopback.to_string()
    );
    // The published ports really listen on this host (docker-proxy).
    let listeners = lab.running.host.listeners.value().unwrap();
    assert!(listeners
        .iter()
        .any(|l| l.port == lab.any_v6 && l.address == "::"));
    // The bridge network is collected from the network list, and which containers are on it
    // is read from their inspects (the list leaves a network's own `Containers` empty).
    let nets = docker(&lab.running).networks.value().unwrap();
    let net = nets
        .iter()
        .find(|n| n.name == "bulkhead-test-net")
        .expect("test network");
    assert_eq!(net.driver, "bridge");
    let endpoints = container(&lab.running, "ports")
        .inspect
        .network_settings
        .networks
        .clone()
        .unwrap_or_default();
    assert!(
        endpoints.values().any(|e| e.network_id == net.id),
        "container ports on {} ({}): {endpoints:?}",
        net.name,
        net.id
    );
}

#[test]
fn container_processes_from_the_host_proc() {
    let Some(lab) = lab() else { return };
    // PITFALL 12: the container's processes are read from the host's /proc, not with docker exec
    // (busybox has no ps that docker-bench's check could rely on).
    let sshd = container(&lab.running, "sshd")
        .processes
        .value()
        .expect("processes read");
    assert!(
        sshd.iter()
            .any(|p| p.comm == "sshd" && p.is_program("sshd")),
        "{sshd:?}"
    );
    let hardened = container(&lab.running, "hardened")
        .processes
        .value()
        .unwrap();
    assert!(!hardened.is_empty());
    assert!(hardened.iter().all(|p| p.uid == 1000), "{hardened:?}");
    // PITFALL 14: the kernel's no_new_privs flag on each container's init process (State.Pid),
    // which 5.26 goes by: set by --security-opt no-new-privileges, not by :false.
    let init_flag = |name: &str| {
        let c = container(&lab.running, name);
        let pid = c.inspect.state.pid as u32;
        c.processes
            .value()
            .unwrap()
            .iter()
            .find(|p| p.pid == pid)
            .unwrap_or_else(|| panic!("init process {pid} of {name}"))
            .no_new_privs
    };
    assert_eq!(init_flag("hardened"), Some(true));
    assert_eq!(init_flag("nnp-false"), Some(false));
    assert_eq!(init_flag("defaults"), Some(false));
    // --pid host: only the container's own process tree, not the whole host.
    let host_pid = container(&lab.running, "hostns").processes.value().unwrap();
    assert_eq!(host_pid.len(), 1, "{host_pid:?}");
    assert_eq!(host_pid[0].argv, vec!["sleep", "100000"]);
    assert_eq!(
        container(&lab.all, "privileged").processes,
        Fact::Value(vec![]),
        "a container that is not running has no processes"
    );
}

#[test]
fn images_with_history() {
    let Some(lab) = lab() else { return };
    let images = docker(&lab.running).images.value().unwrap();
    let busybox = images
        .iter()
        .find(|i| i.display_name() == "bulkhead-test/busybox:1")
        .expect("test image");
    let history = busybox.history.value().expect("history read");
    assert!(!history.is_empty());
    assert!(images
        .iter()
        .any(|i| i.display_name() == "bulkhead-test/sshd:1"));
}

/// `(check, default status, [(container, status)...])`
type Expectation = (&'static str, Status, Vec<(&'static str, Status)>);

/// Marks a check judged as a whole in [`expected`].
const WHOLE: (&str, Status) = ("(whole check)", Status::Info);

/// Verdicts of every section-5 check, as a whole and per container.
fn verdicts(s: &Snapshot) -> BTreeMap<String, (Status, BTreeMap<String, Status>)> {
    let options = AuditOptions::default();
    let ctx = Context::new(s, &options);
    let audit = bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default());
    audit
        .outcomes
        .iter()
        .filter(|o| o.check_id.starts_with("5."))
        .map(|o| {
            let per: BTreeMap<String, Status> = o
                .result
                .objects
                .iter()
                .filter(|ob| ob.kind == "container")
                .map(|ob| (ob.name.clone(), ob.status))
                .collect();
            (o.check_id.clone(), (o.result.status, per))
        })
        .collect()
}

/// Expected verdicts: `(check, default status, [(container, status)...])`. The default applies to
/// every lab container not listed. A check judged as a whole (no per-container verdict) is
/// written with the container list `WHOLE`.
fn expected(s: &Snapshot) -> Vec<Expectation> {
    use Status::*;
    let lsm = &s.host.security_modules;
    let apparmor = lsm.apparmor.value().copied().unwrap_or(false);
    let selinux = lsm.selinux.value().copied().unwrap_or(false);
    vec![
        // 5.2 (PITFALL 9): without AppArmor in the kernel, not applicable with the reason
        // rather than a warning; with it, Docker's default profile applies except to the
        // privileged container.
        if apparmor {
            ("5.2", Pass, vec![("privileged", Fail)])
        } else {
            ("5.2", NotApplicable, vec![WHOLE])
        },
        // 5.3 (PITFALL 9): without SELinux the whole check is not applicable.
        if selinux {
            ("5.3", Fail, vec![])
        } else {
            ("5.3", NotApplicable, vec![WHOLE])
        },
        // 5.4 (PITFALL 10: CapDrop is read): ALL dropped passes, an added capability fails.
        (
            "5.4",
            Warn,
            vec![
                ("hardened", Pass),
                ("nnp-false", Fail),
                ("privileged", Fail),
            ],
        ),
        ("5.5", Pass, vec![("privileged", Fail)]),
        // 5.6 (PITFALL 11): /etc/ssl (a subdirectory of /etc) and the sockets are seen.
        ("5.6", Pass, vec![("sensitive", Fail)]),
        // 5.7 (PITFALL 12): sshd seen from the host's /proc; not running: nothing to inspect.
        (
            "5.7",
            Pass,
            vec![
                ("sshd", Fail),
                ("privileged", NotApplicable),
                ("exited", NotApplicable),
            ],
        ),
        // 5.8, 5.9, 5.14: the host network publishes nothing, yet every port it opens is the host's.
        ("5.8", Pass, vec![("ports", Fail), ("hostns", Warn)]),
        (
            "5.9",
            Pass,
            vec![("ports", Manual), ("hardened", Manual), ("hostns", Manual)],
        ),
        ("5.10", Pass, vec![("hostns", Fail)]),
        ("5.11", Fail, vec![("hardened", Pass)]),
        ("5.12", Fail, vec![("hardened", Pass)]),
        ("5.13", Fail, vec![("hardened", Pass)]),
        // 5.14 (PITFALL 13): the IPv6 wildcard binding fails like 0.0.0.0.
        ("5.14", Pass, vec![("ports", Fail), ("hostns", Warn)]),
        // 5.15 (PITFALL 15): always and on-failure:10 fail; on-failure:3 and no policy pass.
        ("5.15", Pass, vec![("nnp-false", Fail), ("root-user", Fail)]),
        ("5.16", Pass, vec![("hostns", Fail)]),
        ("5.17", Pass, vec![("hostns", Fail)]),
        ("5.18", Pass, vec![("device", Warn), ("privileged", Warn)]),
        ("5.19", Manual, vec![]),
        ("5.20", Pass, vec![("shared-prop", Fail)]),
        ("5.21", Pass, vec![("hostns", Fail)]),
        (
            "5.22",
            Pass,
            vec![("seccomp-off", Fail), ("privileged", Fail)],
        ),
        ("5.23", Manual, vec![]),
        ("5.24", Manual, vec![]),
        ("5.25", Pass, vec![]),
        // 5.26 (PITFALL 14): no-new-privileges:false is not no-new-privileges.
        ("5.26", Fail, vec![("hardened", Pass)]),
        // 5.27 (PITFALL 15): unhealthy fails, healthy passes.
        ("5.27", Fail, vec![("hardened", Pass), ("healthy", Pass)]),
        ("5.28", Manual, vec![]),
        ("5.29", Fail, vec![("hardened", Pass)]),
        // The lab's daemon runs with bridge: none, so it has no default bridge to be on (2.2
        // says the same); its containers sit on a user-defined network.
        ("5.30", NotApplicable, vec![WHOLE]),
        ("5.31", Pass, vec![("hostns", Fail)]),
        ("5.32", Pass, vec![("sensitive", Fail)]),
    ]
}

#[test]
fn section_5_verdict_per_container() {
    let Some(lab) = lab() else { return };
    let got = verdicts(&lab.all);
    let lab_names: Vec<&str> = CONTAINERS
        .iter()
        .copied()
        .filter(|n| *n != "self")
        .collect();
    let mut problems = Vec::new();
    for (check, default, special) in expected(&lab.all) {
        let Some((whole, per)) = got.get(check) else {
            problems.push(format!("{check}: no result"));
            continue;
        };
        if special.first() == Some(&WHOLE) {
            if *whole != default || !per.is_empty() {
                problems.push(format!(
                    "{check}: got {whole:?} with {} objects, expected {default:?} as a whole",
                    per.len()
                ));
            }
            continue;
        }
        for name in &lab_names {
            let want = special
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| *s)
                .unwrap_or(default);
            match per.get(*name) {
                Some(s) if *s == want => {}
                Some(s) => problems.push(format!("{check} {name}: got {s:?}, expected {want:?}")),
                None => problems.push(format!("{check} {name}: no verdict")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// 5.26 on a local daemon goes by the flag the kernel shows on each running container's init
/// process; a container that is not running is judged from its configuration.
#[test]
fn no_new_privileges_from_the_init_process_flag() {
    let Some(lab) = lab() else { return };
    let options = AuditOptions::default();
    let ctx = Context::new(&lab.all, &options);
    let audit = bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default());
    let outcome = audit
        .outcomes
        .iter()
        .find(|o| o.check_id == "5.26")
        .expect("5.26 evaluated");
    let evidence = |name: &str| {
        let o = outcome
            .result
            .objects
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no 5.26 verdict on {name}"));
        let e = o.evidence.as_ref().expect("evidence");
        (o.status, e.field.clone(), e.actual.clone())
    };
    for (name, status, flag) in [
        ("hardened", Status::Pass, "1"),
        ("nnp-false", Status::Fail, "0"),
        ("defaults", Status::Fail, "0"),
    ] {
        let pid = container(&lab.all, name).inspect.state.pid;
        assert_eq!(
            evidence(name),
            (
                status,
                format!("/proc/{pid}/status NoNewPrivs"),
                flag.to_string()
            ),
            "{name}"
        );
    }
    let (status, field, _) = evidence("exited");
    assert_eq!(
        (status, field.as_str()),
        (Status::Fail, "HostConfig.SecurityOpt")
    );
}

#[test]
fn snapshot_round_trip_evaluates_identically() {
    let Some(lab) = lab() else { return };
    let text = serde_json::to_string_pretty(&lab.all).unwrap();
    let back = Snapshot::from_json(&text).expect("snapshot reads back");
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::to_value(&lab.all).unwrap(),
        "nothing lost or changed through JSON"
    );
    let options = AuditOptions::default();
    let run = |s: &Snapshot| {
        let ctx = Context::new(s, &options);
        let a = bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default());
        a.outcomes
            .iter()
            .map(|o| {
                (
                    o.check_id.clone(),
                    o.result.status,
                    o.result.message.clone(),
                    o.result
                        .objects
                        .iter()
                        .map(|ob| (ob.name.clone(), ob.status))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>()
    };
    let live = run(&lab.all);
    assert_eq!(
        live.len(),
        catalog().docker().controls_in("1.6.0").len(),
        "every check evaluated"
    );
    assert_eq!(run(&back), live);
}

/// Errors name the endpoint tried and say what to do; with `Want::Auto` a missing Docker is no
/// error, just no Docker facts, as long as bulkhead guessed where it would be (a socket the user
/// named is wanted: see tests/endpoints.rs).
#[test]
fn errors_say_what_to_do() {
    let missing = "unix:///nonexistent-bulkhead/docker.sock";
    let opts = |want| CollectOptions {
        docker: want,
        docker_host: Some(missing.to_string()),
        kubernetes: Want::Skip,
        ..Default::default()
    };
    let e = collect(&opts(Want::Required)).unwrap_err().to_string();
    assert!(e.contains("/nonexistent-bulkhead/docker.sock"), "{e}");
    assert!(e.contains("is dockerd running"), "{e}");
    assert!(e.contains("--docker-host"), "{e}");
    // The user's rootless socket, said to exist while the system one does not (so the
    // machine's own socket is never tried), is missing on disk.
    let var = |k: &str| (k == "XDG_RUNTIME_DIR").then(|| "/nonexistent-bulkhead".to_string());
    let exists = |p: &str| p == "/nonexistent-bulkhead/docker.sock";
    let guessed = bulkhead_collect::endpoint::Environment {
        var: &var,
        socket_exists: &exists,
        is_own_host: &bulkhead_collect::endpoint::is_own_host,
    };
    let s = bulkhead_collect::collect_with(
        &CollectOptions {
            docker_host: None,
            ..opts(Want::Auto)
        },
        &guessed,
    )
    .expect("no Docker is not an error under Auto");
    assert!(s.docker.is_none());
    let e = collect(&CollectOptions {
        containers: ContainerFilter {
            include: vec!["web-(".into()],
            ..Default::default()
        },
        ..opts(Want::Auto)
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("--include \"web-(\""), "{e}");
}

/// Permission denied on the socket: the error says to run as root or join the docker group. Run
/// in a child process of this test binary that has dropped to the unprivileged `nobody`.
#[test]
fn permission_denied_says_root_or_docker_group() {
    const CHILD: &str = "BULKHEAD_TEST_UNPRIVILEGED_CHILD";
    if let Ok(host) = std::env::var(CHILD) {
        let e = collect(&CollectOptions {
            docker: Want::Required,
            docker_host: Some(host),
            kubernetes: Want::Skip,
            ..Default::default()
        })
        .unwrap_err();
        println!("CHILD-ERROR: {e}");
        return;
    }
    let Some(lab) = lab() else { return };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: dropping to another user needs root");
        return;
    }
    use std::os::unix::process::CommandExt;
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "permission_denied_says_root_or_docker_group",
            "--nocapture",
        ])
        .env(CHILD, lab.d.docker_host())
        .uid(65534)
        .gid(65534)
        .output()
        .expect("run the unprivileged child");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("CHILD-ERROR: "))
        .unwrap_or_else(|| {
            panic!(
                "child output: {text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(line.contains("permission denied connecting to"), "{line}");
    assert!(
        line.contains(lab.d.socket_path().to_str().unwrap()),
        "{line}"
    );
    assert!(line.contains("docker group"), "{line}");
}

/// An `ssh://` endpoint reaches the daemon through a real sshd on a non-default port
/// (`docker system dial-stdio` on the far side, as the docker CLI does; host key checked
/// strictly; the client key in an ssh-agent given as `SSH_AUTH_SOCK`) and sees the same
/// containers as the unix socket.
#[test]
fn ssh_endpoint_reaches_the_same_daemon() {
    let Some(lab) = lab() else { return };
    let Some(docker_cli) = bulkhead_testkit::find_program("docker") else {
        assert!(
            !bulkhead_testkit::ci(),
            "CI=true: no docker CLI for dial-stdio"
        );
        eprintln!("skipped: no docker CLI to run `docker system dial-stdio` behind sshd");
        return;
    };
    let forced = format!(
        "DOCKER_HOST={} exec {} system dial-stdio",
        lab.d.docker_host(),
        docker_cli.display()
    );
    let Some(sshd) = bulkhead_testkit::TestSshd::start("ssh", &forced) else {
        return;
    };
    let agent = sshd.agent_socket().display().to_string();
    let var = |k: &str| match k {
        "SSH_AUTH_SOCK" => Some(agent.clone()),
        "DOCKER_HOST" | "DOCKER_TLS_VERIFY" | "DOCKER_TLS" | "DOCKER_CERT_PATH" => None,
        other => std::env::var(other).ok(),
    };
    let exists = |p: &str| std::path::Path::new(p).exists();
    let env = bulkhead_collect::endpoint::Environment {
        var: &var,
        socket_exists: &exists,
        is_own_host: &bulkhead_collect::endpoint::is_own_host,
    };
    let s = bulkhead_collect::collect_with(
        &CollectOptions {
            docker: Want::Required,
            docker_host: Some(sshd.url()),
            kubernetes: Want::Skip,
            ..Default::default()
        },
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", sshd.log()));
    let d = docker(&s);
    assert_eq!(d.endpoint.transport, "ssh");
    assert!(d.endpoint.local, "ssh to 127.0.0.1 is this machine");
    assert_eq!(
        d.endpoint.api_version,
        docker(&lab.running).endpoint.api_version
    );
    assert_eq!(names(&s), names(&lab.running));
    assert_eq!(
        d.info.value().unwrap().id,
        docker(&lab.running).info.value().unwrap().id,
        "the same daemon"
    );
    // Over ssh the version is `/version`'s answer (asked when connecting); over the unix socket
    // it is read from `/info` and `/_ping`: the two agree on what both say.
    let asked = d.version.value().unwrap();
    let assembled = docker(&lab.running).version.value().unwrap();
    assert_eq!(asked.source, VersionSource::Version);
    assert_eq!(assembled.source, VersionSource::InfoAndPing);
    for (what, a, b) in [
        ("version", &asked.version, &assembled.version),
        ("API version", &asked.api_version, &assembled.api_version),
        ("kernel", &asked.kernel_version, &assembled.kernel_version),
        ("OS", &asked.os, &assembled.os),
    ] {
        assert_eq!(a, b, "{what}");
    }
    assert_eq!(asked.experimental, assembled.experimental);
}
