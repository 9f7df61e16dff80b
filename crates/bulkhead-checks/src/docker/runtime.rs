//! Section 5: container runtime. Every check judges each audited container from its inspect
//! document (and, for sshd, from its processes as seen in the host's /proc).

use super::{container_object, per_container};
use crate::engine::Context;
use crate::model::{CheckResult, Status};
use crate::registry::Evaluator;

pub const EVALUATORS: &[(&str, Evaluator)] =
    &[("docker.container.read_only_rootfs", read_only_rootfs)];

/// 5.13: the root file system is mounted read-only.
fn read_only_rootfs(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let ro = c.inspect.host_config.readonly_rootfs;
        container_object(c, if ro { Status::Pass } else { Status::Fail }).evidence(
            "HostConfig.ReadonlyRootfs",
            ro.to_string(),
            "true",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use crate::model::Status;

    #[test]
    fn read_only_rootfs_per_container() {
        let f = Fixture::new()
            .container("ro", |c| c.host_config.readonly_rootfs = true)
            .container("rw", |_| {});
        let r = f.check("docker.container.read_only_rootfs");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(
            r.objects
                .iter()
                .map(|o| (o.name.as_str(), o.status))
                .collect::<Vec<_>>(),
            vec![("ro", Status::Pass), ("rw", Status::Fail)]
        );
    }

    #[test]
    fn no_containers_is_not_applicable_with_reason() {
        let r = Fixture::new().check("docker.container.read_only_rootfs");
        assert_eq!(r.status, Status::NotApplicable);
        assert_eq!(r.message.as_deref(), Some("no running containers"));
    }
}
