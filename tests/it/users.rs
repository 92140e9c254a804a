//! The user rules (issue 12) on real bytes: Debian's tini-static at mode 0750
//! root:root under `USER app` (uid 1000), its 0755 twin, a `USER` name
//! missing from /etc/passwd, and `--user UID[:GID]` as Kubernetes
//! `runAsUser`/`runAsGroup` (OpenShift's arbitrary UID in group 0 may exec a
//! group-0 program).

use crate::support::snapshot::{run, text_and_json as snapshot};

fn rules(args: &[&str]) -> (i32, Vec<String>) {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let r = run(&a);
    (r.code, r.rules())
}

#[test]
fn non_root_user_cannot_exec_a_0750_program() {
    snapshot("user_cannot_exec", &["fixtures/user-cannot-exec.tar"], 1);
}

#[test]
fn the_0755_twin_is_silent() {
    assert_eq!(rules(&["fixtures/user-ok.tar"]), (0, vec![]));
}

#[test]
fn a_user_name_missing_from_passwd() {
    snapshot("user_not_found", &["fixtures/user-not-found.tar"], 1);
}

#[test]
fn run_as_user_overrides_the_config() {
    // runAsUser 1001, runAsGroup 0 (OpenShift): group 0 may exec 0750 root:root.
    assert_eq!(
        rules(&["fixtures/user-cannot-exec.tar", "--user", "1001:0"]),
        (0, vec![])
    );
    assert_eq!(
        rules(&["fixtures/user-cannot-exec.tar", "--user", "0"]),
        (0, vec![])
    );
    assert_eq!(
        rules(&["fixtures/user-cannot-exec.tar", "--user", "1001:1001"]),
        (1, vec!["user-cannot-exec".to_string()])
    );
    assert_eq!(
        rules(&["fixtures/user-ok.tar", "--user", "app:nogroup"]),
        (1, vec!["user-not-found".to_string()])
    );
}
