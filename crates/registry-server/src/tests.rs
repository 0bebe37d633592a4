//! In-process tests of the handlers through the router (tower `oneshot`).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use berth_image::Digest;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;

struct T {
    _dir: tempfile::TempDir,
    app: Router,
}

fn setup(htpasswd: Option<Htpasswd>) -> T {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), htpasswd).unwrap();
    T { _dir: dir, app }
}

async fn call(
    t: &T,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = t.app.clone().oneshot(b.body(Body::from(body)).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, bytes)
}

async fn push_blob(t: &T, name: &str, data: &[u8]) -> Digest {
    let d = Digest::sha256_of(data);
    let (s, _, _) = call(t, "POST", &format!("/v2/{name}/blobs/uploads/?digest={d}"), &[], data.to_vec()).await;
    assert_eq!(s, StatusCode::CREATED);
    d
}

fn manifest(config: &Digest, layer: &Digest) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": layer, "size": 5}],
    }))
    .unwrap()
}

fn error_code(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    v["errors"][0]["code"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn base_answers_with_version_header() {
    let t = setup(None);
    let (s, h, b) = call(&t, "GET", "/v2/", &[], vec![]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["Docker-Distribution-API-Version"], "registry/2.0");
    assert_eq!(b, b"{}");
}

#[tokio::test]
async fn chunked_upload_then_get_with_range() {
    let t = setup(None);
    let (s, h, _) = call(&t, "POST", "/v2/a/b/blobs/uploads/", &[], vec![]).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let loc = h["Location"].to_str().unwrap().to_string();
    let (s, h, _) = call(&t, "PATCH", &loc, &[("Content-Range", "0-4")], b"hello".to_vec()).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(h["Range"], "0-4");
    let (s, _, b) = call(&t, "PATCH", &loc, &[("Content-Range", "0-4")], b"x".to_vec()).await;
    assert_eq!(s, StatusCode::RANGE_NOT_SATISFIABLE, "{}", String::from_utf8_lossy(&b));
    let d = Digest::sha256_of(b"hello world");
    let (s, h, _) = call(&t, "PUT", &format!("{loc}?digest={d}"), &[], b" world".to_vec()).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(h["Docker-Content-Digest"], d.to_string().as_str());
    let (s, h, b) = call(&t, "HEAD", &format!("/v2/a/b/blobs/{d}"), &[], vec![]).await;
    assert_eq!((s, h["Content-Length"].to_str().unwrap(), b.len()), (StatusCode::OK, "11", 0));
    let (s, h, b) = call(&t, "GET", &format!("/v2/a/b/blobs/{d}"), &[("Range", "bytes=6-")], vec![]).await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert_eq!(h["Content-Range"], "bytes 6-10/11");
    assert_eq!(b, b"world");
    // Not linked into another repository.
    let (s, _, b) = call(&t, "GET", &format!("/v2/other/blobs/{d}"), &[], vec![]).await;
    assert_eq!((s, error_code(&b).as_str()), (StatusCode::NOT_FOUND, "BLOB_UNKNOWN"));
}

#[tokio::test]
async fn wrong_digest_is_rejected_and_nothing_is_stored() {
    let t = setup(None);
    let d = Digest::sha256_of(b"other");
    let (s, _, b) = call(&t, "POST", &format!("/v2/x/blobs/uploads/?digest={d}"), &[], b"data".to_vec()).await;
    assert_eq!((s, error_code(&b).as_str()), (StatusCode::BAD_REQUEST, "DIGEST_INVALID"));
    let (s, _, _) = call(&t, "HEAD", &format!("/v2/x/blobs/{}", Digest::sha256_of(b"data")), &[], vec![]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn cross_repository_mount() {
    let t = setup(None);
    let d = push_blob(&t, "src", b"layer").await;
    let (s, h, _) = call(&t, "POST", &format!("/v2/dst/blobs/uploads/?mount={d}&from=src"), &[], vec![]).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(h["Location"], format!("/v2/dst/blobs/{d}").as_str());
    let missing = Digest::sha256_of(b"nope");
    let (s, _, _) = call(&t, "POST", &format!("/v2/dst/blobs/uploads/?mount={missing}&from=src"), &[], vec![]).await;
    assert_eq!(s, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn manifests_tags_catalog_and_delete() {
    let t = setup(None);
    let c = push_blob(&t, "lib/app", b"{}").await;
    let l = push_blob(&t, "lib/app", b"layer").await;
    let m = manifest(&c, &l);
    let ct = "application/vnd.docker.distribution.manifest.v2+json";
    for tag in ["v1", "v2", "v3"] {
        let (s, _, b) =
            call(&t, "PUT", &format!("/v2/lib/app/manifests/{tag}"), &[("Content-Type", ct)], m.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    }
    let d = Digest::sha256_of(&m);
    let (s, h, b) = call(&t, "GET", "/v2/lib/app/manifests/v2", &[], vec![]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["Content-Type"], ct);
    assert_eq!(h["Docker-Content-Digest"], d.to_string().as_str());
    assert_eq!(b, m);
    let (s, h, _) = call(&t, "HEAD", &format!("/v2/lib/app/manifests/{d}"), &[], vec![]).await;
    assert_eq!((s, h["Content-Length"].to_str().unwrap()), (StatusCode::OK, m.len().to_string().as_str()));
    let (_, h, b) = call(&t, "GET", "/v2/lib/app/tags/list?n=2", &[], vec![]).await;
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["tags"], serde_json::json!(["v1", "v2"]));
    assert_eq!(h["Link"], "</v2/lib/app/tags/list?last=v2&n=2>; rel=\"next\"");
    let (_, _, b) = call(&t, "GET", "/v2/lib/app/tags/list?n=2&last=v2", &[], vec![]).await;
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["tags"], serde_json::json!(["v3"]));
    let (_, _, b) = call(&t, "GET", "/v2/_catalog", &[], vec![]).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&b).unwrap()["repositories"],
        serde_json::json!(["lib/app"])
    );
    // A manifest naming a blob the repository lacks.
    let bad = manifest(&c, &Digest::sha256_of(b"missing"));
    let (s, _, b) = call(&t, "PUT", "/v2/lib/app/manifests/bad", &[("Content-Type", ct)], bad).await;
    assert_eq!((s, error_code(&b).as_str()), (StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"));
    let (s, _, _) = call(&t, "DELETE", &format!("/v2/lib/app/manifests/{d}"), &[], vec![]).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (s, _, b) = call(&t, "GET", "/v2/lib/app/manifests/v1", &[], vec![]).await;
    assert_eq!((s, error_code(&b).as_str()), (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN"));
    let (s, _, b) = call(&t, "GET", "/v2/nope/tags/list", &[], vec![]).await;
    assert_eq!((s, error_code(&b).as_str()), (StatusCode::NOT_FOUND, "NAME_UNKNOWN"));
}

#[tokio::test]
async fn referrers_list_manifests_with_a_subject() {
    let t = setup(None);
    let c = push_blob(&t, "r", b"{}").await;
    let l = push_blob(&t, "r", b"layer").await;
    let m = manifest(&c, &l);
    let ct = "application/vnd.docker.distribution.manifest.v2+json";
    call(&t, "PUT", "/v2/r/manifests/latest", &[("Content-Type", ct)], m.clone()).await;
    let subject = Digest::sha256_of(&m);
    let sig = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/example.sig",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": c, "size": 2},
        "layers": [],
        "subject": {"mediaType": ct, "digest": subject, "size": m.len()},
    }))
    .unwrap();
    let sig_d = Digest::sha256_of(&sig);
    let (s, h, _) = call(
        &t,
        "PUT",
        &format!("/v2/r/manifests/{sig_d}"),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        sig,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(h["OCI-Subject"], subject.to_string().as_str());
    let (s, _, b) = call(&t, "GET", &format!("/v2/r/referrers/{subject}"), &[], vec![]).await;
    assert_eq!(s, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["manifests"][0]["digest"], sig_d.to_string());
    assert_eq!(v["manifests"][0]["artifactType"], "application/example.sig");
    let (_, _, b) = call(&t, "GET", &format!("/v2/r/referrers/{subject}?artifactType=other"), &[], vec![]).await;
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&b).unwrap()["manifests"], serde_json::json!([]));
}

#[tokio::test]
async fn htpasswd_basic_auth() {
    let hash = bcrypt::hash("secret", 4).unwrap();
    let t = setup(Some(Htpasswd::parse(&format!("# users\nalice:{hash}\n"))));
    let (s, h, b) = call(&t, "GET", "/v2/", &[], vec![]).await;
    assert_eq!((s, error_code(&b).as_str()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
    assert_eq!(h["WWW-Authenticate"], "Basic realm=\"berth-registry\"");
    use base64::Engine as _;
    let good = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("alice:secret"));
    let bad = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("alice:wrong"));
    assert_eq!(call(&t, "GET", "/v2/", &[("Authorization", &good)], vec![]).await.0, StatusCode::OK);
    assert_eq!(call(&t, "GET", "/v2/", &[("Authorization", &bad)], vec![]).await.0, StatusCode::UNAUTHORIZED);
}

#[test]
fn paths_and_ranges_parse() {
    use path::{parse, Route};
    let d = Digest::sha256_of(b"x");
    assert_eq!(parse("a/b/manifests/latest").unwrap(), Route::Manifest("a/b".into(), "latest".into()));
    assert_eq!(parse(&format!("a/blobs/{d}")).unwrap(), Route::Blob("a".into(), d.clone()));
    assert_eq!(parse("a/blobs/uploads/").unwrap(), Route::UploadStart("a".into()));
    assert_eq!(parse("a/blobs/uploads/abc-1").unwrap(), Route::Upload("a".into(), "abc-1".into()));
    assert_eq!(parse("x/tags/list").unwrap(), Route::Tags("x".into()));
    assert_eq!(parse("_catalog").unwrap(), Route::Catalog);
    assert!(parse("UPPER/tags/list").is_err());
    assert!(parse("a/blobs/sha256:zz").is_err());
    assert_eq!(blobs::parse_range("bytes=0-4", 11), Some((0, 4)));
    assert_eq!(blobs::parse_range("bytes=-3", 11), Some((8, 10)));
    assert_eq!(blobs::parse_range("bytes=20-", 11), None);
}

#[tokio::test]
async fn large_upload_survives_a_restart_between_patch_and_put() {
    let t = setup(None);
    // More than a writer piece and a writeback window, in one PATCH.
    let data: Vec<u8> = (0..9 * 1024 * 1024 + 3).map(|i| (i * 7 % 251) as u8).collect();
    let d = Digest::sha256_of(&data);
    let wrong = Digest::sha256_of(b"not it");
    for (restart, want) in [(false, &d), (true, &d), (true, &wrong), (false, &wrong)] {
        let (s, h, _) = call(&t, "POST", "/v2/big/blobs/uploads/", &[], vec![]).await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let loc = h["Location"].to_str().unwrap().to_string();
        let (s, h, _) = call(&t, "PATCH", &loc, &[], data[..5].to_vec()).await;
        assert_eq!((s, h["Range"].to_str().unwrap()), (StatusCode::ACCEPTED, "0-4"));
        let (s, h, _) = call(&t, "PATCH", &loc, &[], data[5..].to_vec()).await;
        assert_eq!(s, StatusCode::ACCEPTED);
        assert_eq!(h["Range"].to_str().unwrap(), format!("0-{}", data.len() - 1));
        // A new server on the same root has no hash state: it re-reads the upload.
        let app = if restart { open(t._dir.path(), None).unwrap() } else { t.app.clone() };
        let t2 = T { _dir: tempfile::tempdir().unwrap(), app };
        let (s, h, b) = call(&t2, "PUT", &format!("{loc}?digest={want}"), &[], vec![]).await;
        if want == &wrong {
            assert_eq!((s, error_code(&b).as_str()), (StatusCode::BAD_REQUEST, "DIGEST_INVALID"));
            // A rejected upload is gone.
            let (s, _, b) = call(&t2, "PUT", &format!("{loc}?digest={d}"), &[], vec![]).await;
            assert_eq!((s, error_code(&b).as_str()), (StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN"));
            continue;
        }
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(h["Docker-Content-Digest"], d.to_string().as_str());
        let (s, _, b) = call(&t, "GET", &format!("/v2/big/blobs/{d}"), &[], vec![]).await;
        assert_eq!(s, StatusCode::OK);
        assert!(b == data, "blob content differs");
    }
    let uploads: Vec<_> = std::fs::read_dir(t._dir.path().join("uploads")).unwrap().collect();
    assert!(uploads.is_empty(), "{uploads:?}");
}
