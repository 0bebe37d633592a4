//! Loading a project: find the files, read `.env`, parse, interpolate, merge, resolve
//! `include` and `extends`, convert to the typed model, apply profiles, validate references.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::interpolate::{interpolate_node, parse_env_file, Vars};
use crate::merge::{merge, normalize_file};
use crate::model::{FileObject, Network, Project, Volume};
use crate::service::{boolean, service, string, string_map};
use crate::yaml::{self, Node, Value};

/// Default file names, in Compose's order of preference.
pub const DEFAULT_FILES: &[&str] = &["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];
const OVERRIDE_FILES: &[&str] =
    &["compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml", "docker-compose.override.yml"];
const TOP_LEVEL: &[&str] = &["version", "name", "services", "networks", "volumes", "secrets", "configs", "include"];

/// What the command line and environment say about the project.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `-f` files, in order (empty: search from `cwd` upward).
    pub files: Vec<PathBuf>,
    pub project_name: Option<String>,
    pub project_directory: Option<PathBuf>,
    /// `--env-file` (empty: `<project dir>/.env` if it exists).
    pub env_files: Vec<PathBuf>,
    pub profiles: Vec<String>,
    pub cwd: PathBuf,
    /// The process environment (wins over env files).
    pub environ: BTreeMap<String, String>,
}

/// A loaded project plus the warnings to print (unset variables, obsolete `version`).
#[derive(Debug)]
pub struct Loaded {
    pub project: Project,
    pub warnings: Vec<String>,
    /// The variables interpolation used (`.env`/`--env-file` overlaid by the environment).
    pub variables: Vars,
}

/// Find the compose file: the first default name in `dir` or a parent directory.
pub fn find_default_file(dir: &Path) -> Option<PathBuf> {
    let mut d = Some(dir);
    while let Some(cur) = d {
        for name in DEFAULT_FILES {
            let p = cur.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        d = cur.parent();
    }
    None
}

/// Compose's project-name normalisation: lowercase, only `[a-z0-9_-]`, starting with a
/// letter or digit.
pub fn normalize_project_name(s: &str) -> String {
    let lower: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lower.trim_start_matches(['_', '-']).to_string()
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))
}

/// Load the project `opts` describe.
pub fn load(opts: &Options) -> Result<Loaded> {
    let mut files: Vec<PathBuf> =
        opts.files.iter().map(|f| if f.is_absolute() { f.clone() } else { opts.cwd.join(f) }).collect();
    if files.is_empty() {
        if let Some(list) = opts.environ.get("COMPOSE_FILE").filter(|s| !s.is_empty()) {
            files = list.split(':').map(|f| opts.cwd.join(f)).collect();
        } else {
            let main = find_default_file(&opts.cwd).ok_or(Error::NoConfigFile)?;
            let dir = main.parent().map(Path::to_path_buf).unwrap_or_default();
            files.push(main);
            if let Some(o) = OVERRIDE_FILES.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
                files.push(o);
            }
        }
    }
    let project_dir = match &opts.project_directory {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => opts.cwd.join(d),
        None => files[0].parent().map(Path::to_path_buf).unwrap_or_else(|| opts.cwd.clone()),
    };
    let mut vars = Vars::default();
    let env_files: Vec<PathBuf> = if opts.env_files.is_empty() {
        let dot = project_dir.join(".env");
        if dot.is_file() {
            vec![dot]
        } else {
            vec![]
        }
    } else {
        opts.env_files.iter().map(|f| if f.is_absolute() { f.clone() } else { opts.cwd.join(f) }).collect()
    };
    let environ = Vars { map: opts.environ.clone() };
    for f in &env_files {
        let text = read(f)?;
        let pairs = parse_env_file(&text, &environ).map_err(|m| {
            Error::Invalid(crate::error::Invalid { location: f.display().to_string(), path: String::new(), message: m })
        })?;
        vars.map.extend(pairs);
    }
    vars.map.extend(opts.environ.clone());

    let mut warnings = Vec::new();
    let mut unset = Vec::new();
    let mut doc: Option<Node> = None;
    for f in &files {
        let node = load_file(f, &vars, &mut unset, &mut warnings, 0)?;
        match &mut doc {
            None => doc = Some(node),
            Some(d) => merge(d, node),
        }
    }
    for u in &unset {
        warnings.insert(0, format!("The \"{u}\" variable is not set. Defaulting to a blank string."));
    }
    let doc = doc.ok_or(Error::NoConfigFile)?;

    let name = opts
        .project_name
        .clone()
        .or_else(|| vars.get("COMPOSE_PROJECT_NAME").map(str::to_string))
        .or_else(|| doc.get("name").and_then(Node::scalar_string))
        .unwrap_or_else(|| project_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    let name = normalize_project_name(&name);
    if name.is_empty() {
        return Err(Error::at(&doc, "name", "project name must not be empty"));
    }

    let mut project =
        Project { name: name.clone(), working_dir: project_dir.clone(), config_files: files, ..Default::default() };
    let services_node = doc.get("services").cloned().unwrap_or_else(|| Node::new(Value::Map(vec![])));
    let Some(svc_entries) = services_node.as_map() else {
        return Err(Error::at(&services_node, "services", "must be a mapping"));
    };
    for (sname, snode) in svc_entries {
        let resolved = resolve_extends(sname, snode, &services_node, &project_dir, &vars, 0)?;
        let s = service(sname, &resolved, &project_dir, &vars)?;
        let active =
            s.profiles.is_empty() || s.profiles.iter().any(|p| opts.profiles.iter().any(|a| a == p || a == "*"));
        if active {
            project.services.insert(sname.clone(), s);
        } else {
            project.disabled.insert(sname.clone(), s);
        }
    }
    top_level(&doc, &mut project)?;
    for obj in project.secrets.values_mut().chain(project.configs.values_mut()) {
        if let Some(var) = &obj.environment {
            // Compose reads an unset variable as empty content.
            obj.environment_value = Some(vars.get(var).unwrap_or_default().to_string());
        }
    }
    validate(&services_node, &mut project)?;
    Ok(Loaded { project, warnings, variables: vars })
}

/// Parse, interpolate and normalise one file, with its `include`s merged underneath it.
fn load_file(
    path: &Path,
    vars: &Vars,
    unset: &mut Vec<String>,
    warnings: &mut Vec<String>,
    depth: usize,
) -> Result<Node> {
    let text = read(path)?;
    let mut node = yaml::parse(&path.display().to_string(), &text)?;
    if node.as_map().is_none() {
        return Err(Error::at(&node, "", "top-level object must be a mapping"));
    }
    for (k, v) in node.as_map().map(Vec::as_slice).unwrap_or_default() {
        if !TOP_LEVEL.contains(&k.as_str()) && !k.starts_with("x-") {
            return Err(Error::at(v, "", format!("additional properties '{k}' not allowed")));
        }
    }
    if node.get("version").is_some() {
        warnings.push(format!("{}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion", path.display()));
    }
    interpolate_node(&mut node, vars, "", unset)?;
    normalize_file(&mut node);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if depth > 0 {
        // An included file's relative paths are relative to its own directory.
        crate::rebase::rebase_file(&mut node, &dir);
    }
    if let Some(inc) = node.get("include").cloned() {
        if depth > 8 {
            return Err(Error::at(&inc, "include", "include nesting too deep"));
        }
        let mut base: Option<Node> = None;
        for (i, item) in inc.as_seq().map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
            let ip = format!("include[{i}]");
            let paths = match item.get("path") {
                Some(p) => crate::service::strings(p, &ip)?,
                None => vec![string(item, &ip)?],
            };
            for p in paths {
                let included =
                    load_file(&PathBuf::from(crate::units::absolute(&p, &dir)), vars, unset, warnings, depth + 1)?;
                match &mut base {
                    None => base = Some(included),
                    Some(b) => merge(b, included),
                }
            }
        }
        if let (Some(mut b), Value::Map(m)) = (base, &mut node.value) {
            m.retain(|(k, _)| k != "include");
            merge(&mut b, node);
            node = b;
        }
    }
    Ok(node)
}

/// `extends: {service, file}`: the base service's config with this service's merged on top.
fn resolve_extends(name: &str, svc: &Node, services: &Node, dir: &Path, vars: &Vars, depth: usize) -> Result<Node> {
    let Some(ext) = svc.get("extends") else { return Ok(svc.clone()) };
    let path = format!("services.{name}.extends");
    if depth > 8 {
        return Err(Error::at(ext, &path, "extends nesting too deep or circular"));
    }
    let (base_name, file) = match ext.get("service") {
        Some(s) => (string(s, &path)?, ext.get("file").map(|f| string(f, &path)).transpose()?),
        None => (string(ext, &path)?, None),
    };
    let (base_services, base_dir) = match file {
        Some(f) => {
            let full = PathBuf::from(crate::units::absolute(&f, dir));
            let mut node = yaml::parse(&full.display().to_string(), &read(&full)?)?;
            interpolate_node(&mut node, vars, "", &mut Vec::new())?;
            normalize_file(&mut node);
            let d = full.parent().map(Path::to_path_buf).unwrap_or_default();
            // The extended file's relative paths are relative to its own directory.
            crate::rebase::rebase_file(&mut node, &d);
            (node.get("services").cloned().unwrap_or_else(|| Node::new(Value::Null)), d)
        }
        None => (services.clone(), dir.to_path_buf()),
    };
    let base = base_services.get(&base_name).ok_or_else(|| {
        Error::at(ext, &path, format!("cannot extend service \"{name}\": service \"{base_name}\" not found"))
    })?;
    let mut resolved = resolve_extends(&base_name, base, &base_services, &base_dir, vars, depth + 1)?;
    let mut own = svc.clone();
    if let Value::Map(m) = &mut own.value {
        m.retain(|(k, _)| k != "extends");
    }
    if let Value::Map(m) = &mut resolved.value {
        m.retain(|(k, _)| k != "depends_on" && k != "extends");
    }
    let mut wrap_base = Node::new(Value::Map(vec![("s".into(), resolved)]));
    merge(&mut wrap_base, Node::new(Value::Map(vec![("s".into(), own)])));
    Ok(wrap_base.get("s").cloned().unwrap_or_else(|| svc.clone()))
}

fn top_level(doc: &Node, project: &mut Project) -> Result<()> {
    let name = project.name.clone();
    if let Some(nets) = doc.get("networks").and_then(Node::as_map) {
        for (key, n) in nets {
            let p = format!("networks.{key}");
            let external = n.get("external").map(|e| boolean(e, &p)).transpose()?.unwrap_or(false);
            let explicit = n.get("name").and_then(Node::scalar_string);
            let mut net = Network {
                name: explicit.unwrap_or_else(|| if external { key.clone() } else { format!("{name}_{key}") }),
                external,
                driver: n.get("driver").and_then(Node::scalar_string),
                internal: n.get("internal").map(|e| boolean(e, &p)).transpose()?.unwrap_or(false),
                ..Default::default()
            };
            if let Some(o) = n.get("driver_opts") {
                net.driver_opts = flat(string_map(o, &format!("{p}.driver_opts"))?);
            }
            if let Some(l) = n.get("labels") {
                let mut l = l.clone();
                normalize_kv(&mut l);
                net.labels = flat(string_map(&l, &format!("{p}.labels"))?);
            }
            if let Some(cfgs) = n.get("ipam").and_then(|i| i.get("config")).and_then(Node::as_seq) {
                net.ipam_subnets = cfgs.iter().filter_map(|c| c.get("subnet")?.scalar_string()).collect();
            }
            project.networks.insert(key.clone(), net);
        }
    }
    if let Some(vols) = doc.get("volumes").and_then(Node::as_map) {
        for (key, n) in vols {
            let p = format!("volumes.{key}");
            let external = n.get("external").map(|e| boolean(e, &p)).transpose()?.unwrap_or(false);
            let explicit = n.get("name").and_then(Node::scalar_string);
            let mut vol = Volume {
                name: explicit.unwrap_or_else(|| if external { key.clone() } else { format!("{name}_{key}") }),
                external,
                driver: n.get("driver").and_then(Node::scalar_string),
                ..Default::default()
            };
            if let Some(o) = n.get("driver_opts") {
                vol.driver_opts = flat(string_map(o, &format!("{p}.driver_opts"))?);
            }
            if let Some(l) = n.get("labels") {
                let mut l = l.clone();
                normalize_kv(&mut l);
                vol.labels = flat(string_map(&l, &format!("{p}.labels"))?);
            }
            project.volumes.insert(key.clone(), vol);
        }
    }
    for (section, slot) in [("secrets", &mut project.secrets), ("configs", &mut project.configs)] {
        if let Some(items) = doc.get(section).and_then(Node::as_map) {
            for (key, n) in items {
                let p = format!("{section}.{key}");
                let obj = FileObject {
                    file: n
                        .get("file")
                        .map(|f| string(f, &p))
                        .transpose()?
                        .map(|f| crate::units::absolute(&f, &project.working_dir)),
                    environment: n.get("environment").map(|f| string(f, &p)).transpose()?,
                    content: n.get("content").map(|f| string(f, &p)).transpose()?,
                    environment_value: None,
                };
                if obj.file.is_none() && obj.environment.is_none() && obj.content.is_none() {
                    return Err(Error::at(n, &p, "one of file, environment or content is required"));
                }
                slot.insert(key.clone(), obj);
            }
        }
    }
    Ok(())
}

fn normalize_kv(n: &mut Node) {
    let mut wrap = Node::new(Value::Map(vec![("labels".into(), n.clone())]));
    crate::merge::normalize_service(&mut wrap);
    if let Some(l) = wrap.get("labels") {
        *n = l.clone();
    }
}

fn flat(m: BTreeMap<String, Option<String>>) -> BTreeMap<String, String> {
    m.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect()
}

/// References between services, networks, volumes and secrets must resolve; the default
/// network is added when a service uses it.
fn validate(services_node: &Node, project: &mut Project) -> Result<()> {
    let all: Vec<String> = project.services.keys().chain(project.disabled.keys()).cloned().collect();
    let mut needs_default = false;
    let name = project.name.clone();
    for (sname, s) in project.services.iter_mut() {
        let node = services_node.get(sname).unwrap_or(services_node);
        // An optional (`required: false`) dependency may be missing.
        s.depends_on.retain(|dep, d| d.required || all.contains(dep));
        for dep in s.depends_on.keys() {
            if !all.contains(dep) {
                let at = node.get("depends_on").unwrap_or(node);
                return Err(Error::at(
                    at,
                    &format!("services.{sname}.depends_on"),
                    format!("service \"{sname}\" depends on undefined service \"{dep}\": invalid compose project"),
                ));
            }
        }
        if s.network_mode.is_none() && s.networks.is_empty() {
            s.networks.insert("default".into(), Default::default());
        }
        for net in s.networks.keys() {
            if net == "default" {
                needs_default = true;
            } else if !project.networks.contains_key(net) {
                let at = node.get("networks").unwrap_or(node);
                return Err(Error::at(
                    at,
                    &format!("services.{sname}.networks"),
                    format!("service \"{sname}\" refers to undefined network {net}: invalid compose project"),
                ));
            }
        }
        for (i, m) in s.volumes.iter().enumerate() {
            if let (crate::model::MountType::Volume, Some(src)) = (m.kind, &m.source) {
                if !project.volumes.contains_key(src) {
                    let at =
                        node.get("volumes").and_then(|v| v.as_seq()?.get(i).cloned()).unwrap_or_else(|| node.clone());
                    return Err(Error::at(
                        &at,
                        &format!("services.{sname}.volumes[{i}]"),
                        format!("service \"{sname}\" refers to undefined volume {src}: invalid compose project"),
                    ));
                }
            }
        }
        for (kind, list, defined) in
            [("secret", &s.secrets, &project.secrets), ("config", &s.configs, &project.configs)]
        {
            for fm in list {
                if !defined.contains_key(&fm.source) {
                    return Err(Error::at(
                        node,
                        &format!("services.{sname}.{kind}s"),
                        format!(
                            "service \"{sname}\" refers to undefined {kind} {}: invalid compose project",
                            fm.source
                        ),
                    ));
                }
            }
        }
    }
    if needs_default && !project.networks.contains_key("default") {
        project.networks.insert("default".into(), Network { name: format!("{name}_default"), ..Default::default() });
    }
    crate::graph::order(project)?;
    Ok(())
}
