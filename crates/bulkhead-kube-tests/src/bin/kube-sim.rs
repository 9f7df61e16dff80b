//! A do-nothing stand-in for a Kubernetes component. Tests copy it to a file named after the
//! component (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, etcd)
//! and start it with a component's command line, so `/proc/<pid>/comm`, `exe` and `cmdline` are
//! those of a real process of that name. It ignores its arguments and sleeps until killed.

fn main() {
    loop {
        std::thread::park();
    }
}
