//! The checks of the OCI distribution-spec conformance suite (`opencontainers/distribution-spec`
//! `conformance/`, written in Go, which cannot be built offline here), ported: its four
//! workflows — pull, push, content discovery, content management — against the router in
//! process, with the status codes, headers and error codes the suite asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use berth_image::Digest;
use http_body_util::BodyExt;
use tower::ServiceExt;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

struct Reg {
    _dir: tempfile::TempDir,
    app: Router,
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, k: &str) -> &str {
        self.headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn code(&self) -> String {
        self.json()["errors"][0]["code"].as_str().unwrap_or("").to_string()
    }
}

fn registry() -> Reg {
    let dir = tempfile::tempdir().unwrap();
    let app = berth_registry_server::open(dir.path(), None).unwrap();
    Reg { _dir: dir, app }
}

impl Reg {
    async fn call(&self, method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let resp = self.app.clone().oneshot(b.body(Body::from(body.to_vec())).unwrap()).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
        Resp { status, headers, body }
    }

    /// POST then PUT (the suite's "monolithic upload").
    async fn push_blob(&self, name: &str, data: &[u8]) -> Digest {
        let d = Digest::sha256_of(data);
        let r = self.call("POST", &format!("/v2/{name}/blobs/uploads/"), &[], b"").await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        let loc = r.header("Location").to_string();
        assert!(!loc.is_empty());
        let sep = if loc.contains('?') { '&' } else { '?' };
        let r = self
            .call(
                "PUT",
                &format!("{loc}{sep}digest={d}"),
                &[("Content-Type", "application/octet-stream"), ("Content-Length", &data.len().to_string())],
                data,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("Location"), format!("/v2/{name}/blobs/{d}"));
        d
    }

    async fn put_manifest(&self, name: &str, reference: &str, media_type: &str, bytes: &[u8]) -> Resp {
        self.call("PUT", &format!("/v2/{name}/manifests/{reference}"), &[("Content-Type", media_type)], bytes).await
    }
}

fn image_manifest(config: &Digest, config_len: usize, layer: &Digest, layer_len: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_len},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": layer_len}],
    }))
    .unwrap()
}

/// A repository with one image tagged `tagtest0`; returns (manifest, digest, config, layer).
async fn seed(r: &Reg, name: &str) -> (Vec<u8>, Digest, Digest, Digest) {
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = b"conformance layer bytes";
    let c = r.push_blob(name, config).await;
    let l = r.push_blob(name, layer).await;
    let m = image_manifest(&c, config.len(), &l, layer.len());
    let resp = r.put_manifest(name, "tagtest0", OCI_MANIFEST, &m).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&resp.body));
    let d = Digest::sha256_of(&m);
    // As distribution does, the location names the manifest by digest.
    assert_eq!(resp.header("Location"), format!("/v2/{name}/manifests/{d}"));
    assert_eq!(resp.header("Docker-Content-Digest"), d.to_string());
    (m, d, c, l)
}

#[tokio::test]
async fn pull_workflow() {
    let r = registry();
    let (m, d, c, l) = seed(&r, "conformance/pull").await;
    assert_eq!(r.call("GET", "/v2/", &[], b"").await.status, StatusCode::OK);
    // Manifests: HEAD and GET by tag and by digest.
    for reference in ["tagtest0".to_string(), d.to_string()] {
        let head = r.call("HEAD", &format!("/v2/conformance/pull/manifests/{reference}"), &[], b"").await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.header("Docker-Content-Digest"), d.to_string());
        assert_eq!(head.header("Content-Length"), m.len().to_string());
        assert!(head.body.is_empty());
        let get = r
            .call("GET", &format!("/v2/conformance/pull/manifests/{reference}"), &[("Accept", OCI_MANIFEST)], b"")
            .await;
        assert_eq!(get.status, StatusCode::OK);
        assert_eq!(get.header("Content-Type"), OCI_MANIFEST);
        assert_eq!(get.body, m);
    }
    // Blobs.
    for (digest, len) in [(&c, 0usize), (&l, 23)] {
        let head = r.call("HEAD", &format!("/v2/conformance/pull/blobs/{digest}"), &[], b"").await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.header("Docker-Content-Digest"), digest.to_string());
        let get = r.call("GET", &format!("/v2/conformance/pull/blobs/{digest}"), &[], b"").await;
        assert_eq!(get.status, StatusCode::OK);
        assert_eq!(Digest::sha256_of(&get.body), *digest);
        if len > 0 {
            assert_eq!(get.body.len(), len);
        }
    }
    // Things that do not exist.
    let missing = Digest::sha256_of(b"does not exist");
    let resp = r.call("GET", "/v2/conformance/pull/manifests/nonexistent", &[], b"").await;
    assert_eq!((resp.status, resp.code().as_str()), (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN"));
    let resp = r.call("HEAD", &format!("/v2/conformance/pull/manifests/{missing}"), &[], b"").await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    let resp = r.call("GET", &format!("/v2/conformance/pull/blobs/{missing}"), &[], b"").await;
    assert_eq!((resp.status, resp.code().as_str()), (StatusCode::NOT_FOUND, "BLOB_UNKNOWN"));
    let resp = r.call("HEAD", &format!("/v2/conformance/pull/blobs/{missing}"), &[], b"").await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    let resp = r.call("GET", "/v2/Bad_Name/manifests/latest", &[], b"").await;
    assert_eq!((resp.status, resp.code().as_str()), (StatusCode::BAD_REQUEST, "NAME_INVALID"));
    let resp = r.call("GET", "/v2/conformance/pull/blobs/sha256:nothex", &[], b"").await;
    assert!(resp.status.is_client_error());
}

#[tokio::test]
async fn push_workflow() {
    let r = registry();
    let name = "conformance/push";
    // Single POST with the digest (monolithic, one request).
    let data = b"posted in one request";
    let d = Digest::sha256_of(data);
    let resp = r
        .call(
            "POST",
            &format!("/v2/{name}/blobs/uploads/?digest={d}"),
            &[("Content-Type", "application/octet-stream")],
            data,
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED);
    assert_eq!(resp.header("Location"), format!("/v2/{name}/blobs/{d}"));
    // POST then PUT.
    r.push_blob(name, b"post then put").await;
    // Chunked: two PATCHes, status in between, an out-of-order chunk refused, then PUT.
    let (a, b) = (b"chunk one, ".as_slice(), b"chunk two".as_slice());
    let whole = [a, b].concat();
    let wd = Digest::sha256_of(&whole);
    let resp = r.call("POST", &format!("/v2/{name}/blobs/uploads/"), &[("Content-Length", "0")], b"").await;
    assert_eq!(resp.status, StatusCode::ACCEPTED);
    let loc = resp.header("Location").to_string();
    let range1 = format!("0-{}", a.len() - 1);
    let resp =
        r.call("PATCH", &loc, &[("Content-Type", "application/octet-stream"), ("Content-Range", &range1)], a).await;
    assert_eq!(resp.status, StatusCode::ACCEPTED);
    assert_eq!(resp.header("Range"), range1);
    let loc = resp.header("Location").to_string();
    let status = r.call("GET", &loc, &[], b"").await;
    assert_eq!(status.status, StatusCode::NO_CONTENT);
    assert_eq!(status.header("Range"), range1);
    let wrong = format!("{}-{}", a.len() + 5, whole.len() + 4);
    let resp = r.call("PATCH", &loc, &[("Content-Range", &wrong)], b).await;
    assert_eq!(resp.status, StatusCode::RANGE_NOT_SATISFIABLE);
    let range2 = format!("{}-{}", a.len(), whole.len() - 1);
    let resp = r.call("PATCH", &loc, &[("Content-Range", &range2)], b).await;
    assert_eq!(resp.status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&resp.body));
    let loc = resp.header("Location").to_string();
    let sep = if loc.contains('?') { '&' } else { '?' };
    let resp = r.call("PUT", &format!("{loc}{sep}digest={wd}"), &[], b"").await;
    assert_eq!(resp.status, StatusCode::CREATED);
    assert_eq!(resp.header("Docker-Content-Digest"), wd.to_string());
    assert_eq!(r.call("GET", &format!("/v2/{name}/blobs/{wd}"), &[], b"").await.body, whole);
    // A wrong digest is refused and stores nothing.
    let resp = r.call("POST", &format!("/v2/{name}/blobs/uploads/"), &[], b"").await;
    let loc = resp.header("Location").to_string();
    let sep = if loc.contains('?') { '&' } else { '?' };
    let liar = Digest::sha256_of(b"something else");
    let resp = r.call("PUT", &format!("{loc}{sep}digest={liar}"), &[], b"actual bytes").await;
    assert_eq!((resp.status, resp.code().as_str()), (StatusCode::BAD_REQUEST, "DIGEST_INVALID"));
    assert_eq!(r.call("HEAD", &format!("/v2/{name}/blobs/{liar}"), &[], b"").await.status, StatusCode::NOT_FOUND);
    // An upload can be cancelled; its id is then unknown.
    let resp = r.call("POST", &format!("/v2/{name}/blobs/uploads/"), &[], b"").await;
    let loc = resp.header("Location").to_string();
    assert_eq!(r.call("DELETE", &loc, &[], b"").await.status, StatusCode::NO_CONTENT);
    let resp = r.call("GET", &loc, &[], b"").await;
    assert_eq!((resp.status, resp.code().as_str()), (StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN"));
    // Cross-repository mount; from a repository without the blob it starts an upload instead.
    let resp = r.call("POST", &format!("/v2/other/blobs/uploads/?mount={wd}&from={name}"), &[], b"").await;
    assert_eq!(resp.status, StatusCode::CREATED);
    assert_eq!(resp.header("Location"), format!("/v2/other/blobs/{wd}"));
    let resp = r.call("POST", &format!("/v2/other/blobs/uploads/?mount={liar}&from={name}"), &[], b"").await;
    assert_eq!(resp.status, StatusCode::ACCEPTED);
    // Manifests: by tag, by digest, an index of them; a manifest with unknown blobs is refused.
    let (m, md, c, _) = seed(&r, name).await;
    let resp = r.put_manifest(name, &md.to_string(), OCI_MANIFEST, &m).await;
    assert_eq!(resp.status, StatusCode::CREATED);
    assert_eq!(resp.header("Location"), format!("/v2/{name}/manifests/{md}"));
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": md, "size": m.len(), "platform": {"os": "linux", "architecture": "amd64"}}],
    }))
    .unwrap();
    let resp = r.put_manifest(name, "index", OCI_INDEX, &index).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&resp.body));
    let got = r.call("GET", &format!("/v2/{name}/manifests/index"), &[("Accept", OCI_INDEX)], b"").await;
    assert_eq!((got.header("Content-Type"), got.body.as_slice()), (OCI_INDEX, index.as_slice()));
    let bad = image_manifest(&c, 2, &liar, 5);
    let resp = r.put_manifest(name, "bad", OCI_MANIFEST, &bad).await;
    assert_eq!((resp.status, resp.code().as_str()), (StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"));
    let resp = r.put_manifest(name, "garbage", OCI_MANIFEST, b"{not json").await;
    assert_eq!((resp.status, resp.code().as_str()), (StatusCode::BAD_REQUEST, "MANIFEST_INVALID"));
    let resp = r.put_manifest(name, &liar.to_string(), OCI_MANIFEST, &m).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST, "a manifest put under another digest was accepted");
}

#[tokio::test]
async fn content_discovery_workflow() {
    let r = registry();
    let name = "conformance/discovery";
    let (m, d, _, _) = seed(&r, name).await;
    for i in 1..=4 {
        assert_eq!(r.put_manifest(name, &format!("tagtest{i}"), OCI_MANIFEST, &m).await.status, StatusCode::CREATED);
    }
    let all = r.call("GET", &format!("/v2/{name}/tags/list"), &[], b"").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.json()["name"], name);
    assert_eq!(all.json()["tags"], serde_json::json!(["tagtest0", "tagtest1", "tagtest2", "tagtest3", "tagtest4"]));
    assert!(all.header("Link").is_empty());
    let page = r.call("GET", &format!("/v2/{name}/tags/list?n=2"), &[], b"").await;
    assert_eq!(page.json()["tags"], serde_json::json!(["tagtest0", "tagtest1"]));
    assert_eq!(page.header("Link"), format!("</v2/{name}/tags/list?last=tagtest1&n=2>; rel=\"next\""));
    let page = r.call("GET", &format!("/v2/{name}/tags/list?n=2&last=tagtest3"), &[], b"").await;
    assert_eq!(page.json()["tags"], serde_json::json!(["tagtest4"]));
    assert!(page.header("Link").is_empty());
    let resp = r.call("GET", "/v2/conformance/none/tags/list", &[], b"").await;
    assert_eq!((resp.status, resp.code().as_str()), (StatusCode::NOT_FOUND, "NAME_UNKNOWN"));
    // Referrers: none yet, then two artifacts, filtered by artifactType.
    let empty = r.call("GET", &format!("/v2/{name}/referrers/{d}"), &[], b"").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.header("Content-Type"), OCI_INDEX);
    assert_eq!(empty.json()["manifests"], serde_json::json!([]));
    let empty_cfg = r.push_blob(name, b"{}").await;
    let mut digests = Vec::new();
    for (kind, n) in [("application/vnd.example.sbom", 1), ("application/vnd.example.sig", 2)] {
        let a = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": kind,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty_cfg, "size": 2},
            "layers": [], "annotations": {"n": n.to_string()},
            "subject": {"mediaType": OCI_MANIFEST, "digest": d, "size": m.len()},
        }))
        .unwrap();
        let ad = Digest::sha256_of(&a);
        let resp = r.put_manifest(name, &ad.to_string(), OCI_MANIFEST, &a).await;
        assert_eq!(resp.status, StatusCode::CREATED);
        assert_eq!(resp.header("OCI-Subject"), d.to_string());
        digests.push(ad);
    }
    let list = r.call("GET", &format!("/v2/{name}/referrers/{d}"), &[], b"").await;
    let mut got: Vec<String> = list.json()["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["digest"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    let mut want: Vec<String> = digests.iter().map(|x| x.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
    let one =
        r.call("GET", &format!("/v2/{name}/referrers/{d}?artifactType=application/vnd.example.sig"), &[], b"").await;
    assert_eq!(one.header("OCI-Filters-Applied"), "artifactType");
    assert_eq!(one.json()["manifests"].as_array().map(Vec::len), Some(1));
    assert_eq!(one.json()["manifests"][0]["annotations"]["n"], "2");
    // Catalog with pagination.
    r.seed_other().await;
    let cat = r.call("GET", "/v2/_catalog?n=1", &[], b"").await;
    assert_eq!(cat.json()["repositories"].as_array().map(Vec::len), Some(1));
    assert!(cat.header("Link").contains("rel=\"next\""));
}

impl Reg {
    async fn seed_other(&self) {
        self.push_blob("conformance/zzz", b"x").await;
        let _ = seed(self, "conformance/zzz").await;
    }
}

#[tokio::test]
async fn content_management_workflow() {
    let r = registry();
    let name = "conformance/management";
    let (m, d, c, l) = seed(&r, name).await;
    assert_eq!(r.put_manifest(name, "keep", OCI_MANIFEST, &m).await.status, StatusCode::CREATED);
    // Deleting a manifest by digest removes it and every tag pointing at it.
    let resp = r.call("DELETE", &format!("/v2/{name}/manifests/{d}"), &[], b"").await;
    assert_eq!(resp.status, StatusCode::ACCEPTED);
    let resp = r.call("GET", &format!("/v2/{name}/manifests/{d}"), &[], b"").await;
    assert_eq!((resp.status, resp.code().as_str()), (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN"));
    let resp = r.call("GET", &format!("/v2/{name}/manifests/tagtest0"), &[], b"").await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    let again = r.call("DELETE", &format!("/v2/{name}/manifests/{d}"), &[], b"").await;
    assert_eq!((again.status, again.code().as_str()), (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN"));
    // Blobs.
    for blob in [&c, &l] {
        let resp = r.call("DELETE", &format!("/v2/{name}/blobs/{blob}"), &[], b"").await;
        assert_eq!(resp.status, StatusCode::ACCEPTED);
        let resp = r.call("GET", &format!("/v2/{name}/blobs/{blob}"), &[], b"").await;
        assert_eq!((resp.status, resp.code().as_str()), (StatusCode::NOT_FOUND, "BLOB_UNKNOWN"));
    }
    let resp = r.call("DELETE", &format!("/v2/{name}/blobs/{c}"), &[], b"").await;
    assert_eq!((resp.status, resp.code().as_str()), (StatusCode::NOT_FOUND, "BLOB_UNKNOWN"));
}
