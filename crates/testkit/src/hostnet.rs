//! A test's own default bridge, nft table and subnet, so daemons under test never use the
//! default `berth0` / `table ip berth` of a real berthd, and remove them when dropped.

use std::process::{Command, Stdio};

pub struct HostNet {
    pub bridge: String,
    pub nft_table: String,
    pub bip: String,
}

impl HostNet {
    pub fn new() -> HostNet {
        let tag: u32 = rand::random();
        HostNet {
            bridge: format!("bt{:08x}", tag),
            nft_table: format!("berth_t{tag:08x}"),
            bip: format!("10.{}.{}.1/24", 200 + (tag >> 8) % 50, tag & 0xff),
        }
    }
}

impl Default for HostNet {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for HostNet {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.bridge]).stderr(Stdio::null()).status();
        let _ = Command::new("nft").args(["delete", "table", "ip", &self.nft_table]).stderr(Stdio::null()).status();
    }
}
