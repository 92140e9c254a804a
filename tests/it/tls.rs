//! `no-ca-certificates` (issue 12) on real Debian bytes: bookworm's `openssl`
//! (links libssl.so.3) without a CA bundle, and its twin with Debian's
//! `ca-certificates` bundle.

use crate::support::snapshot::{run, settings, whole};

#[test]
fn tls_client_without_ca_bundle_warns() {
    let text = run(&["fixtures/no-ca-certificates.tar"]);
    assert_eq!(text.code, 0, "{}", whole(&text));
    let json = run(&["fixtures/no-ca-certificates.tar", "--format", "json"]);
    assert_eq!(json.rules(), vec!["no-ca-certificates".to_string()]);
    settings().bind(|| {
        insta::assert_snapshot!("no_ca_certificates_text", whole(&text));
        insta::assert_snapshot!("no_ca_certificates_json", whole(&json));
    });
    // --fail-on warning makes it a gate.
    let gate = run(&["fixtures/no-ca-certificates.tar", "--fail-on", "warning"]);
    assert_eq!(gate.code, 1, "{}", whole(&gate));
}

#[test]
fn with_the_bundle_it_is_silent() {
    let r = run(&["fixtures/ca-certificates-ok.tar", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.rules().is_empty(), "{}", r.all());
}
