//! `environment:` and `content:` secrets and configs: Compose v2 writes them into the created
//! container with the archive API (`PUT /containers/{id}/archive`), so no host file is needed.
//! Each becomes one file at its target, mode 0444, owned by root.

use bollard::query_parameters::UploadToContainerOptionsBuilder;

use crate::client::Client;
use crate::error::CliError;

/// A tar holding one file per (absolute target, content), paths relative to `/`.
pub fn tar_of(files: &[(String, String)]) -> Result<Vec<u8>, CliError> {
    let mut b = tar::Builder::new(Vec::new());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    for (target, content) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o444);
        h.set_mtime(now);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, target.trim_start_matches('/'), content.as_bytes())
            .map_err(|e| CliError::new(1, format!("secret {target}: {e}")))?;
    }
    b.into_inner().map_err(|e| CliError::new(1, format!("building secrets archive: {e}")))
}

/// Copy the files into container `id` (nothing to do when there are none).
pub async fn inject(c: &Client, id: &str, files: &[(String, String)]) -> Result<(), CliError> {
    if files.is_empty() {
        return Ok(());
    }
    let body = bollard::body_full(tar_of(files)?.into());
    let opts = UploadToContainerOptionsBuilder::new().path("/").build();
    c.docker.upload_to_container(id, Some(opts), body).await.map_err(CliError::daemon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_read_only_file_per_target() {
        let raw =
            tar_of(&[("/run/secrets/api".into(), "s3cret".into()), ("/app.conf".into(), "x=1\n".into())]).unwrap();
        let mut a = tar::Archive::new(raw.as_slice());
        let got: Vec<(String, u32, String)> = a
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let mut s = String::new();
                std::io::Read::read_to_string(&mut e, &mut s).unwrap();
                (e.path().unwrap().display().to_string(), e.header().mode().unwrap(), s)
            })
            .collect();
        assert_eq!(
            got,
            vec![("run/secrets/api".into(), 0o444, "s3cret".into()), ("app.conf".into(), 0o444, "x=1\n".into())]
        );
    }
}
