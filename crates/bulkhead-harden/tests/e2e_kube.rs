//! Hardening a Kubernetes node end to end: a kubeadm-style node root with real files (static pod
//! manifests, a YAML kubelet config at a non-default path, a cluster dump), components running
//! as real processes under their own names with the manifests' command lines, the real
//! collector and evaluators before and after.
//!
//! The components are a do-nothing program (a 130-byte static x86-64 ELF written by the test
//! that sleeps in pause(2)) copied under each component's name, so /proc shows a real
//! kube-apiserver with a real command line. After the fix, the test restarts each static pod's
//! process from its patched manifest, as the kubelet does. The API server's strategic merge of
//! a `kubectl patch` cannot run here: the test merges the planned patch into the cluster dump the
//! same way (containers merged by name) and audits the result.

mod common;

use bulkhead_checks::Status;
use bulkhead_collect::{CollectOptions, Want};
use bulkhead_facts::Snapshot;
use bulkhead_harden::apply::{apply, ApplyOptions};
use bulkhead_harden::{plan, FixKind, PlanRequest};
use common::{kube_audit, put, status, temp_root};
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A static x86-64 Linux executable: `loop { pause() }`.
fn sleeper_elf() -> Vec<u8> {
    let code: [u8; 9] = [0xb8, 0x22, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7];
    let size = (0x78 + code.len()) as u64;
    let mut b = Vec::new();
    b.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    b.extend_from_slice(&0x3eu16.to_le_bytes()); // x86-64
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&0x400078u64.to_le_bytes()); // entry
    b.extend_from_slice(&0x40u64.to_le_bytes()); // program headers
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&0x40u16.to_le_bytes());
    b.extend_from_slice(&0x38u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&[0; 6]);
    b.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    b.extend_from_slice(&5u32.to_le_bytes()); // R+X
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&0x400000u64.to_le_bytes());
    b.extend_from_slice(&0x400000u64.to_le_bytes());
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&0x1000u64.to_le_bytes());
    b.extend_from_slice(&code);
    b
}

/// A running simulated component (killed on drop).
struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(bin_dir: &Path, component: &str, args: &[String]) -> Sim {
    let exe = bin_dir.join(component);
    if !exe.exists() {
        std::fs::write(&exe, sleeper_elf()).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut tries = 0;
    let child = loop {
        match Command::new(&exe)
            .arg0(format!("/usr/local/bin/{component}"))
            .args(args)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => break c,
            // Another thread may fork while the file is still open for writing.
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 200 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("starting {component}: {e}"),
        }
    };
    let comm = format!("/proc/{}/comm", child.id());
    let want: String = component.chars().take(15).collect();
    for _ in 0..400 {
        if std::fs::read_to_string(&comm)
            .map(|c| c.trim() == want)
            .unwrap_or(false)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Sim(child)
}

/// The component's arguments from its static pod manifest (as the kubelet would run it).
fn manifest_args(root: &Path, file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("etc/kubernetes/manifests").join(file)).unwrap();
    let docs = bulkhead_sources::yaml::parse(&text).unwrap();
    let cmd = docs[0]
        .root
        .path(&["spec", "containers"])
        .unwrap()
        .as_seq()
        .unwrap()[0]
        .get("command")
        .unwrap()
        .to_json(bulkhead_sources::yaml::Schema::Core);
    cmd.as_array().unwrap()[1..]
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// A proc directory showing only these processes (links to their real /proc entries).
fn proc_view(dir: &Path, sims: &[&Sim]) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for s in sims {
        std::os::unix::fs::symlink(
            format!("/proc/{}", s.0.id()),
            dir.join(s.0.id().to_string()),
        )
        .unwrap();
    }
}

fn collect(root: &Path, proc: &Path, dump: &Path) -> Snapshot {
    bulkhead_collect::collect(&CollectOptions {
        root: root.to_path_buf(),
        proc: proc.to_path_buf(),
        docker: Want::Skip,
        kubernetes: Want::Required,
        cluster_dump: Some(dump.to_path_buf()),
        ..Default::default()
    })
    .unwrap()
}

/// What the API server does with a strategic merge patch, for the fields these patches use:
/// maps merged key by key, `containers` merged by name.
fn strategic_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if k == "containers" {
                    let list = t.entry(k.clone()).or_insert(json!([]));
                    for pc in v.as_array().unwrap() {
                        let name = &pc["name"];
                        if let Some(tc) = list
                            .as_array_mut()
                            .unwrap()
                            .iter_mut()
                            .find(|c| &c["name"] == name)
                        {
                            strategic_merge(tc, pc);
                        }
                    }
                } else {
                    strategic_merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

const APISERVER: &str = "# kubeadm wrote this; edited by hand since\napiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --advertise-address=10.0.0.10\n    - --authorization-mode=AlwaysAllow\n    - --enable-admission-plugins=AlwaysAdmit\n    - --profiling=true   # left on while debugging\n    - --token-auth-file=/etc/kubernetes/tokens.csv\n    - --etcd-servers=https://127.0.0.1:2379\n    image: registry.k8s.io/kube-apiserver:v1.30.2\n    name: kube-apiserver\n    volumeMounts:\n    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n      readOnly: true\n  hostNetwork: true\n  volumes:\n  - hostPath:\n      path: /etc/kubernetes/pki\n      type: DirectoryOrCreate\n    name: k8s-certs\n";

fn small_manifest(name: &str, flags: &[&str]) -> String {
    let mut s = format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - {name}\n");
    for f in flags {
        s.push_str(&format!("    - {f}\n"));
    }
    s.push_str(&format!(
        "    image: registry.k8s.io/{name}:v1.30.2\n    name: {name}\n  hostNetwork: true\n"
    ));
    s
}

const KUBELET_CONFIG: &str = "# Node-local kubelet settings (not the kubeadm default path).\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: /etc/kubernetes/manifests\nauthentication:\n  anonymous:\n    enabled: true   # TODO: turn off\n  webhook:\n    enabled: true\nauthorization:\n  mode: AlwaysAllow\nreadOnlyPort: 10255\n";

const DUMP: &str = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: web\n    namespace: shop\n  spec:\n    template:\n      spec:\n        containers:\n        - name: app\n          image: nginx:1.25\n          securityContext:\n            privileged: true\n";

#[test]
fn kubeadm_node_hardened_and_audited_again() {
    if std::env::consts::ARCH != "x86_64" {
        let reason = "the simulated components are an x86-64 program";
        assert!(!bulkhead_testkit::ci(), "{reason}");
        eprintln!("skipped: {reason}");
        return;
    }
    let root = temp_root("kube");
    put(
        &root,
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\netcd:x:998:997::/var/lib/etcd:/usr/sbin/nologin\n",
    );
    put(&root, "/etc/group", "root:x:0:\netcd:x:997:\n");
    put(
        &root,
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        APISERVER,
    );
    put(
        &root,
        "/etc/kubernetes/manifests/kube-controller-manager.yaml",
        &small_manifest(
            "kube-controller-manager",
            &["--kubeconfig=/etc/kubernetes/controller-manager.conf"],
        ),
    );
    put(
        &root,
        "/etc/kubernetes/manifests/kube-scheduler.yaml",
        &small_manifest(
            "kube-scheduler",
            &[
                "--kubeconfig=/etc/kubernetes/scheduler.conf",
                "--profiling=true",
            ],
        ),
    );
    put(
        &root,
        "/etc/kubernetes/manifests/etcd.yaml",
        &small_manifest(
            "etcd",
            &[
                "--name=node-1",
                "--data-dir=/var/lib/etcd",
                "--listen-client-urls=https://127.0.0.1:2379",
                "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
                "--key-file=/etc/kubernetes/pki/etcd/server.key",
                // With a CA file etcd asks clients for certificates whatever
                // --client-cert-auth says (2.2 passes), and it ignores --auto-tls beside
                // certificate files, which makes turning it off safe.
                "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
                "--auto-tls=true",
                "--client-cert-auth=false",
            ],
        ),
    );
    put(&root, "/var/lib/kubelet/custom.yaml", KUBELET_CONFIG);
    let dump = put(&root, "/srv/dump.yaml", DUMP);
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // PITFALLS (CIS Kubernetes 1): --make-iptables-util-chains on the command line overrides the
    // config file; harden must say so rather than edit a file the kubelet would ignore.
    let kubelet_args: Vec<String> = [
        "--config=/var/lib/kubelet/custom.yaml",
        "--kubeconfig=/etc/kubernetes/kubelet.conf",
        "--make-iptables-util-chains=false",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run_all = |root: &Path| -> Vec<Sim> {
        vec![
            start(
                &bin,
                "kube-apiserver",
                &manifest_args(root, "kube-apiserver.yaml"),
            ),
            start(
                &bin,
                "kube-controller-manager",
                &manifest_args(root, "kube-controller-manager.yaml"),
            ),
            start(
                &bin,
                "kube-scheduler",
                &manifest_args(root, "kube-scheduler.yaml"),
            ),
            start(&bin, "etcd", &manifest_args(root, "etcd.yaml")),
            start(&bin, "kubelet", &kubelet_args),
        ]
    };
    let selected = [
        "1.2.2", "1.2.6", "1.2.7", "1.2.8", "1.2.10", "1.2.15", "1.2.27", "1.2.28", "1.3.2",
        "1.4.1", "2.3", "4.2.1", "4.2.2", "4.2.4", "4.2.6", "5.2.2",
    ];
    let proc = root.join("proc-view");
    let sims = run_all(&root);
    proc_view(&proc, &sims.iter().collect::<Vec<_>>());
    let snap = collect(&root, &proc, &dump);
    let before = kube_audit(&snap, &selected);
    for id in selected {
        assert_eq!(
            status(&before, id),
            Status::Fail,
            "{id} before: {:?}",
            before
                .outcomes
                .iter()
                .find(|o| o.check_id == id)
                .map(|o| &o.result)
        );
    }
    let p = plan(
        &snap,
        std::slice::from_ref(&before),
        &PlanRequest {
            select: selected.iter().map(|s| s.to_string()).collect(),
            root: Some(root.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let kinds: Vec<FixKind> = p.fixes.iter().map(|f| f.kind).collect();
    for k in [
        FixKind::StaticPod,
        FixKind::KubeletConfig,
        FixKind::EncryptionConfig,
        FixKind::PodSecurityContext,
    ] {
        assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
    }
    // Only 4.2.6 stays unfixed, because a flag overrides the config file.
    assert_eq!(p.unfixed.len(), 1, "{:#?}", p.unfixed);
    assert_eq!(p.unfixed[0].check, "4.2.6");
    assert!(
        p.unfixed[0]
            .reason
            .contains("--make-iptables-util-chains=false on the kubelet's command line overrides"),
        "{}",
        p.unfixed[0].reason
    );
    // The encryption key is never shown.
    let enc = p
        .fixes
        .iter()
        .find(|f| f.kind == FixKind::EncryptionConfig)
        .unwrap();
    let diff = enc.diff().unwrap();
    assert!(diff.contains("+              secret: ***"), "{diff}");
    let key_line = enc.action.edits[0]
        .after
        .lines()
        .find(|l| l.contains("secret:"))
        .unwrap()
        .to_string();
    assert!(
        !diff.contains(key_line.trim()),
        "the key leaked into the diff"
    );
    let pod_fix = p
        .fixes
        .iter()
        .find(|f| f.kind == FixKind::PodSecurityContext)
        .unwrap();
    assert_eq!(pod_fix.target.name, "shop/Deployment web");
    let argv = &pod_fix.action.steps[0].argv;
    assert_eq!(
        &argv[..6],
        &[
            "kubectl",
            "patch",
            "deployment",
            "web",
            "--namespace",
            "shop"
        ]
    );

    apply(
        &p,
        &ApplyOptions {
            root: root.clone(),
            include_review: true,
            state_dir: Some(root.join("state")),
        },
    )
    .unwrap();
    // Formatting and comments survive.
    let api =
        std::fs::read_to_string(root.join("etc/kubernetes/manifests/kube-apiserver.yaml")).unwrap();
    assert!(api.starts_with("# kubeadm wrote this; edited by hand since\n"));
    assert!(
        api.contains("    - --profiling=false   # left on while debugging\n"),
        "{api}"
    );
    assert!(!api.contains("--token-auth-file"));
    assert!(
        api.contains("    - --authorization-mode=Node,RBAC\n"),
        "{api}"
    );
    assert!(
        api.contains(
            "    - --encryption-provider-config=/etc/kubernetes/enc/encryption-config.yaml\n"
        ),
        "{api}"
    );
    let kubelet = std::fs::read_to_string(root.join("var/lib/kubelet/custom.yaml")).unwrap();
    assert_eq!(
        kubelet,
        KUBELET_CONFIG
            .replace("enabled: true   # TODO", "enabled: false   # TODO")
            .replace("mode: AlwaysAllow", "mode: Webhook")
            .replace("readOnlyPort: 10255", "readOnlyPort: 0")
    );
    let enc_meta =
        std::fs::metadata(root.join("etc/kubernetes/enc/encryption-config.yaml")).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::mode(&enc_meta) & 0o777,
        0o600
    );

    // The kubelet restarts every static pod whose manifest changed; the kubelet itself restarts.
    drop(sims);
    let sims = run_all(&root);
    proc_view(&proc, &sims.iter().collect::<Vec<_>>());
    // `kubectl patch`, as the API server would merge it.
    let patch: Value = serde_json::from_str(argv.last().unwrap()).unwrap();
    let docs = bulkhead_sources::yaml::parse(DUMP).unwrap();
    let mut list = docs[0].root.to_json(bulkhead_sources::yaml::Schema::Core);
    strategic_merge(&mut list["items"][0], &patch);
    let dump2 = root.join("srv/dump-patched.json");
    std::fs::write(&dump2, list.to_string()).unwrap();
    let snap = collect(&root, &proc, &dump2);
    let after = kube_audit(&snap, &selected);
    for id in selected {
        let want = if id == "4.2.6" {
            Status::Fail
        } else {
            Status::Pass
        };
        assert_eq!(
            status(&after, id),
            want,
            "{id} after: {:?}",
            after
                .outcomes
                .iter()
                .find(|o| o.check_id == id)
                .map(|o| &o.result)
        );
    }
    drop(sims);
    let _ = std::fs::remove_dir_all(&root);
    let _: PathBuf = proc;
}
