//! `SystemVersion`: what `/version` reports.

use std::collections::HashMap;

use berth_api_types::models::{SystemVersion, SystemVersionComponents, SystemVersionPlatform};
use berth_api_types::ApiVersion;

use crate::Engine;

pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

impl Engine {
    pub fn system_version(&self) -> SystemVersion {
        let kernel = super::read_proc_line("/proc/sys/kernel/osrelease");
        let details = HashMap::from([
            ("ApiVersion".to_string(), ApiVersion::CURRENT.to_string()),
            ("MinAPIVersion".to_string(), ApiVersion::MIN.to_string()),
            ("Os".to_string(), "linux".to_string()),
            ("Arch".to_string(), go_arch().to_string()),
            ("KernelVersion".to_string(), kernel.clone()),
            ("Experimental".to_string(), "false".to_string()),
            ("GitCommit".to_string(), String::new()),
        ]);
        SystemVersion {
            platform: Some(SystemVersionPlatform { name: "berth".into() }),
            components: Some(vec![SystemVersionComponents {
                name: "Engine".into(),
                version: ENGINE_VERSION.into(),
                details: Some(details),
            }]),
            version: Some(ENGINE_VERSION.into()),
            api_version: Some(ApiVersion::CURRENT.to_string()),
            min_api_version: Some(ApiVersion::MIN.to_string()),
            git_commit: Some(String::new()),
            go_version: Some(String::new()),
            os: Some("linux".into()),
            arch: Some(go_arch().into()),
            kernel_version: Some(kernel),
            experimental: Some(false),
            build_time: Some(String::new()),
        }
    }
}

/// Docker reports architectures with Go's names.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}
