//! `GET /containers/{id}/top` (ContainerTop): the host's `ps` output, filtered to the
//! container's processes, as dockerd does.

use berth_api_types::models::ContainerTopResponse;

use crate::{Engine, Error, Result};

impl Engine {
    pub async fn container_top(&self, key: &str, ps_args: &str) -> Result<ContainerTopResponse> {
        let c = self.containers.get(key)?;
        if !c.status().is_running() {
            return Err(Error::Conflict(format!("Container {} is not running", c.id)));
        }
        let pids = berth_kernel::cgroup::procs(
            std::path::Path::new(berth_kernel::cgroup::CGROUP_ROOT),
            &self.cgroup_path(&c.id),
        );
        let args: Vec<&str> =
            if ps_args.trim().is_empty() { vec!["-ef"] } else { ps_args.split_whitespace().collect() };
        let out = tokio::process::Command::new("ps")
            .args(&args)
            .output()
            .await
            .map_err(|e| Error::Internal(format!("running ps: {e}")))?;
        if !out.status.success() {
            return Err(Error::Internal(format!("ps: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
        parse_ps(&String::from_utf8_lossy(&out.stdout), &pids).map_err(Error::Internal)
    }
}

/// dockerd's `parsePSOutput`: titles from the header; a row per process whose PID is in `pids`
/// (and thread rows, PID `-`, that follow one); the last column keeps its spaces.
pub fn parse_ps(output: &str, pids: &[i32]) -> Result<ContainerTopResponse, String> {
    let mut lines = output.lines();
    let titles: Vec<String> = lines.next().unwrap_or("").split_whitespace().map(String::from).collect();
    let pid_index = titles.iter().position(|t| t == "PID").ok_or("Couldn't find PID field in ps output")?;
    let mut processes = Vec::new();
    let mut in_container = false;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(pid) = fields.get(pid_index) else { continue };
        let keep = if *pid == "-" {
            in_container
        } else {
            let p: i32 = pid.parse().map_err(|e| format!("Unexpected pid '{pid}': {e}"))?;
            in_container = pids.contains(&p);
            in_container
        };
        if keep {
            let n = titles.len().saturating_sub(1).min(fields.len());
            let mut row: Vec<String> = fields[..n].iter().map(|s| s.to_string()).collect();
            row.push(fields[n..].join(" "));
            processes.push(row);
        }
    }
    Ok(ContainerTopResponse { titles: Some(titles), processes: Some(processes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_to_container_pids_and_keeps_command_spaces() {
        let out = "UID PID PPID C STIME TTY TIME CMD\n\
                   root 1 0 0 16:00 ? 00:00:01 /sbin/init\n\
                   root 1430 1408 0 17:10 ? 00:00:00 sleep 30\n\
                   root 1431 1430 0 17:10 ? 00:00:00 sh -c echo a  b\n";
        let top = parse_ps(out, &[1430, 1431]).unwrap();
        assert_eq!(top.titles.unwrap(), ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]);
        let rows = top.processes.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], ["root", "1430", "1408", "0", "17:10", "?", "00:00:00", "sleep 30"]);
        assert_eq!(rows[1][7], "sh -c echo a b");
    }

    #[test]
    fn thread_rows_follow_their_process_and_bad_output_errors() {
        let out = "PID TID CMD\n5 - a\n- 6 b\n7 - c\n- 8 d\n";
        let rows = parse_ps(out, &[5]).unwrap().processes.unwrap();
        assert_eq!(rows, [["5", "-", "a"], ["-", "6", "b"]]);
        assert!(parse_ps("USER CMD\nroot x\n", &[]).is_err());
        assert!(parse_ps("PID CMD\nabc x\n", &[]).unwrap_err().starts_with("Unexpected pid 'abc'"));
    }
}
